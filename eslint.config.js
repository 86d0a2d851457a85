import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.state/**', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Layering: schemas -> connectors -> operators -> topologies -> services and deploy. A file may import
  // only from its own layer or the layers to its left.
  ...[
    ['schemas', ['connectors', 'operators', 'topologies', 'services', 'deploy']],
    ['connectors', ['operators', 'topologies', 'services', 'deploy']],
    ['operators', ['topologies', 'services', 'deploy']],
    ['topologies', ['services', 'deploy']],
  ].map(([layer, later]) => ({
    files: [`${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: later.map((l) => ({
            group: [`**/${l}/**`],
            message: `${layer}/ may not import from ${l}/ (imports flow schemas -> connectors -> operators -> topologies -> services/deploy)`,
          })),
        },
      ],
    },
  })),
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
