import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.state/**', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Layering: schemas -> connectors -> operators -> topologies -> services/deploy.
      'no-restricted-imports': 'off',
    },
  },
  {
    // Browser scripts of the control service's web page.
    files: ['services/**/web/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'fetch',
          'sessionStorage',
          'localStorage',
          'setInterval',
          'clearInterval',
          'setTimeout',
          'clearTimeout',
          'console',
          'URLSearchParams',
          'Intl',
          'Event',
          'HTMLElement',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['deploy/bin/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
