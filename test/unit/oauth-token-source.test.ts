/**
 * The OAuth client-credentials token source against a real HTTP token endpoint on loopback: what it sends,
 * how long it keeps a token, and what an issuer's refusal or outage looks like to the worker.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { register } from 'prom-client';
import {
  ClientCredentialsTokenSource,
  TokenEndpointError,
} from '../../connectors/kafka/oauth-token-source.js';

interface TokenRequest {
  authorization: string | undefined;
  form: URLSearchParams;
}
type Answer = { status: number; body: unknown };

/** A token endpoint that answers from a script of replies (the last one repeats) and records each request. */
const endpoint = {
  requests: [] as TokenRequest[],
  replies: [] as Answer[],
  server: http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      endpoint.requests.push({ authorization: req.headers.authorization, form: new URLSearchParams(body) });
      const reply = (endpoint.replies.length > 1 ? endpoint.replies.shift() : endpoint.replies[0]) as Answer;
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
    });
  }),
  url: new URL('http://127.0.0.1/'),
  script(...replies: Answer[]) {
    this.requests = [];
    this.replies = replies;
  },
};

before(async () => {
  await new Promise<void>((resolve) => endpoint.server.listen(0, '127.0.0.1', resolve));
  endpoint.url = new URL(`http://127.0.0.1:${(endpoint.server.address() as AddressInfo).port}/oauth2/token`);
});
after(() => endpoint.server.close());

const token = (n: number, expiresIn?: number): Answer => ({
  status: 200,
  body: { access_token: `token-${n}`, token_type: 'Bearer', ...(expiresIn ? { expires_in: expiresIn } : {}) },
});

/** A source whose clock the test moves. */
function source(clock: { now: number }, scope?: string) {
  return new ClientCredentialsTokenSource(
    {
      tokenEndpoint: endpoint.url,
      clientId: 'sluice worker',
      clientSecret: 's3cret:with:colons',
      ...(scope ? { scope } : {}),
    },
    { now: () => clock.now, retries: 2 },
  );
}

test('asks with the client credentials grant and HTTP Basic, and keeps the token for 80% of its lifetime', async () => {
  endpoint.script(token(1, 100), token(2, 100));
  const clock = { now: 1_000_000 };
  const tokens = source(clock, 'kafka.read kafka.write');

  assert.equal(await tokens.token(), 'token-1');
  const [first] = endpoint.requests;
  assert.equal(first?.form.get('grant_type'), 'client_credentials');
  assert.equal(first?.form.get('scope'), 'kafka.read kafka.write');
  // RFC 6749 §2.3.1: id and secret are form-encoded before Basic, so a colon in the secret survives.
  const basic = Buffer.from(String(first?.authorization).replace(/^Basic /, ''), 'base64').toString();
  assert.equal(basic, 'sluice%20worker:s3cret%3Awith%3Acolons');

  clock.now += 79_000;
  assert.equal(await tokens.token(), 'token-1', 'cached before the refresh point');
  assert.equal(endpoint.requests.length, 1);
  clock.now += 2_000;
  assert.equal(await tokens.token(), 'token-2', 'renewed after 80% of 100 s');
  assert.equal(endpoint.requests.length, 2);
});

test('connections authenticating at once share one request', async () => {
  endpoint.script(token(7, 3600));
  const tokens = source({ now: 0 });
  const all = await Promise.all(Array.from({ length: 5 }, () => tokens.token()));
  assert.deepEqual(new Set(all), new Set(['token-7']));
  assert.equal(endpoint.requests.length, 1);
});

test("a refused client fails at once with the issuer's reason; a server error is retried", async () => {
  endpoint.script({
    status: 401,
    body: { error: 'invalid_client', error_description: 'Client authentication failed' },
  });
  await assert.rejects(
    source({ now: 0 }).token(),
    (err: unknown) =>
      err instanceof TokenEndpointError &&
      err.message ===
        `OAuth token endpoint ${endpoint.url.origin}/oauth2/token refused client 'sluice worker' (HTTP 401): invalid_client: Client authentication failed`,
  );
  assert.equal(endpoint.requests.length, 1, 'a refusal is not retried');

  endpoint.script({ status: 503, body: 'upstream down' }, { status: 503, body: '' }, token(3, 60));
  assert.equal(await source({ now: 0 }).token(), 'token-3');
  assert.equal(endpoint.requests.length, 3);

  endpoint.script({ status: 200, body: { token_type: 'Bearer' } });
  await assert.rejects(source({ now: 0 }).token(), /answered without an access_token/);
  endpoint.script({ status: 200, body: '<html>login</html>' });
  await assert.rejects(source({ now: 0 }).token(), /answered with something that is not JSON/);
});

test('a failed renewal keeps the current token until it expires, then fails', async () => {
  endpoint.script(token(4, 100), { status: 500, body: { error: 'temporarily_unavailable' } });
  const clock = { now: 0 };
  const tokens = source(clock);
  assert.equal(await tokens.token(), 'token-4');
  clock.now = 90_000; // past the refresh point, before expiry
  assert.equal(await tokens.token(), 'token-4');
  assert.equal(endpoint.requests.length, 4, 'the renewal was tried (1 + 2 retries)');
  clock.now = 100_001;
  await assert.rejects(tokens.token(), /HTTP 500\): temporarily_unavailable/);
});

test("without expires_in the JWT's exp sets the lifetime; an opaque token is asked for every time", async () => {
  const claims = Buffer.from(JSON.stringify({ sub: 'svc', exp: 200 })).toString('base64url');
  const jwt = `e30.${claims}.`;
  endpoint.script({ status: 200, body: { access_token: jwt } });
  const clock = { now: 100_000 }; // 100 s of a token valid until 200 s: refresh at 180 s
  const tokens = source(clock);
  assert.equal(await tokens.token(), jwt);
  clock.now = 179_000;
  await tokens.token();
  assert.equal(endpoint.requests.length, 1);

  endpoint.script({ status: 200, body: { access_token: 'opaque' } });
  const opaque = source({ now: 0 });
  await opaque.token();
  await opaque.token();
  assert.equal(endpoint.requests.length, 2);
});

/** The requests counter's value for one outcome. */
async function requests(outcome: string): Promise<number> {
  const metric = register.getSingleMetric('sluice_kafka_oauth_token_requests_total');
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

test('every request to the issuer is counted by outcome, and the expiry of the newest token is exported', async () => {
  const before = {
    issued: await requests('issued'),
    refused: await requests('refused'),
    failed: await requests('failed'),
  };
  endpoint.script(token(5, 120));
  await source({ now: 1_000_000 }).token();
  const expiry = await register.getSingleMetric('sluice_kafka_oauth_token_expiry_seconds')?.get();
  assert.equal(expiry?.values[0]?.value, 1_000 + 120, 'requested at 1,000 s, valid for 120 s');

  endpoint.script({ status: 401, body: { error: 'invalid_client' } });
  await assert.rejects(source({ now: 0 }).token());
  endpoint.script({ status: 503, body: '' });
  await assert.rejects(source({ now: 0 }).token());
  assert.deepEqual(
    {
      issued: (await requests('issued')) - before.issued,
      refused: (await requests('refused')) - before.refused,
      failed: (await requests('failed')) - before.failed,
    },
    { issued: 1, refused: 1, failed: 1 },
    'a 503 counts once, after its retries',
  );
});
