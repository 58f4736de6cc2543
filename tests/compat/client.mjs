// Drives the crosswalk demo tRPC server with the official @trpc/client 11.
//
//   TRPC_URL=http://127.0.0.1:PORT/trpc node client.mjs suite    every wire feature
//   TRPC_URL=... node client.mjs restart    one long subscription across a server restart
//
// Prints one JSON line per milestone and a final {"ok":true,...} summary; any failed
// assertion exits non-zero. Plain ESM, no TypeScript: the untyped proxy client works.
import assert from "node:assert/strict";
import {
  createTRPCClient,
  createTRPCUntypedClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from "@trpc/client";
import { EventSource } from "eventsource";

const url = process.env.TRPC_URL;
assert.ok(url, "TRPC_URL is required");
const TOKEN = "demo-token";
const authHeaders = { authorization: `Bearer ${TOKEN}` };

function withSubscriptions(link, token = TOKEN) {
  return [
    splitLink({
      condition: (op) => op.type === "subscription",
      true: httpSubscriptionLink({
        url,
        EventSource,
        connectionParams: token ? { token } : undefined,
      }),
      false: link,
    }),
  ];
}

const plain = createTRPCClient({ links: withSubscriptions(httpLink({ url, headers: authHeaders })) });
const batched = createTRPCClient({
  links: withSubscriptions(httpBatchLink({ url, headers: authHeaders })),
});
const untyped = createTRPCUntypedClient({ links: [httpLink({ url, headers: authHeaders })] });
const anonymous = createTRPCClient({ links: withSubscriptions(httpLink({ url }), null) });

const checks = [];
function passed(name) {
  checks.push(name);
  console.log(JSON.stringify({ passed: name }));
}

function expectTrpcError(code, httpStatus, extra = {}) {
  return (err) => {
    assert.ok(err instanceof TRPCClientError, `expected TRPCClientError, got ${err}`);
    assert.equal(err.data?.code, code, `code of ${err.message}`);
    assert.equal(err.data?.httpStatus, httpStatus);
    assert.equal(err.data?.stack, undefined, "no stack by default");
    if ("message" in extra) assert.equal(err.message, extra.message);
    if ("path" in extra) assert.equal(err.data?.path, extra.path);
    if ("rpcCode" in extra) assert.equal(err.shape?.code, extra.rpcCode);
    return true;
  };
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Subscribe and collect every value until the server ends the stream or it errors. */
function collect(client, path, input, { timeoutMs = 15000 } = {}) {
  const [first, second] = path.split(".");
  const proc = second ? client[first][second] : client[first];
  return withTimeout(
    new Promise((resolve) => {
      const values = [];
      let started = false;
      let stopped = false;
      const sub = proc.subscribe(input, {
        onStarted: () => {
          started = true;
        },
        onData: (value) => values.push(value),
        onError: (error) => {
          sub.unsubscribe();
          resolve({ values, error, started, stopped });
        },
        // onStopped: the server ended the stream with `event: return`
        onStopped: () => {
          stopped = true;
        },
        onComplete: () => resolve({ values, error: null, started, stopped }),
      });
    }),
    timeoutMs,
    `subscription ${path}`,
  );
}

const DOMAIN_CASES = [
  ["invalid", "BAD_REQUEST", 400, -32600, "question is empty"],
  ["not_found", "NOT_FOUND", 404, -32004, "task 'x1' not found"],
  ["conflict", "CONFLICT", 409, -32009, "conversation 'c1' is already answered"],
  ["precondition", "PRECONDITION_FAILED", 412, -32012, "agent 'a1' is stopped"],
  ["unauthorized", "UNAUTHORIZED", 401, -32001, "token expired"],
  ["forbidden", "FORBIDDEN", 403, -32003, "agent a1 may not act for a2"],
  ["too_large", "PAYLOAD_TOO_LARGE", 413, -32013, "question too large"],
  ["plain", "INTERNAL_SERVER_ERROR", 500, -32603, "Internal server error"],
];

async function suite() {
  // --- queries and mutations, httpLink ---
  assert.deepEqual(await anonymous.health.query(), { ok: true, server: "demo" });
  passed("public query without credentials");

  assert.deepEqual(await plain.greeting.hello.query({ name: "zoë" }), {
    greeting: "hello zoë",
    user: "admin",
  });
  passed("query with input (httpLink)");

  assert.equal(await plain.greeting.nothing.query(), null);
  passed("query returning None is null");

  assert.deepEqual(await plain.counter.add.mutate({ a: 2, b: 40 }), { sum: 42 });
  passed("mutation (httpLink)");

  // --- batching: parallel calls share one request per type ---
  const [h1, h2, none, sum] = await Promise.all([
    batched.greeting.hello.query({ name: "a" }),
    batched.greeting.hello.query({ name: "b" }),
    batched.greeting.nothing.query(),
    batched.counter.add.mutate({ a: 1, b: 2 }),
  ]);
  assert.equal(h1.greeting, "hello a");
  assert.equal(h2.greeting, "hello b");
  assert.equal(none, null);
  assert.deepEqual(sum, { sum: 3 });
  passed("httpBatchLink queries and mutations");

  const mixed = await Promise.allSettled([
    batched.greeting.hello.query({ name: "ok" }),
    batched.errors.raise.query({ kind: "conflict" }),
    batched.greeting.hello.query({ name: "much too long a name" }),
  ]);
  assert.equal(mixed[0].status, "fulfilled");
  assert.equal(mixed[0].value.greeting, "hello ok");
  assert.equal(mixed[1].status, "rejected");
  expectTrpcError("CONFLICT", 409, { path: "errors.raise" })(mixed[1].reason);
  assert.equal(mixed[2].status, "rejected");
  expectTrpcError("BAD_REQUEST", 400, {
    message: "name: String should have at most 10 characters",
    path: "greeting.hello",
  })(mixed[2].reason);
  passed("batch with mixed results and errors (207)");

  // --- errors ---
  for (const [kind, code, status, rpcCode, message] of DOMAIN_CASES) {
    await assert.rejects(
      plain.errors.raise.query({ kind }),
      expectTrpcError(code, status, { message, rpcCode, path: "errors.raise" }),
    );
    await assert.rejects(
      batched.errors.raise.query({ kind }),
      expectTrpcError(code, status, { message, rpcCode, path: "errors.raise" }),
    );
  }
  passed("domain errors map to codes (httpLink and httpBatchLink)");

  await assert.rejects(
    plain.greeting.hello.query({ name: "x".repeat(11) }),
    expectTrpcError("BAD_REQUEST", 400, {
      message: "name: String should have at most 10 characters",
    }),
  );
  await assert.rejects(
    plain.counter.add.mutate(),
    expectTrpcError("BAD_REQUEST", 400, {
      message: "input: Input should be a valid dictionary or instance of AddInput",
    }),
  );
  passed("input validation errors");

  await assert.rejects(
    anonymous.greeting.hello.query({ name: "a" }),
    expectTrpcError("UNAUTHORIZED", 401, { message: "missing or invalid token" }),
  );
  passed("missing credentials are UNAUTHORIZED");

  await assert.rejects(
    untyped.query("nope.nothing"),
    expectTrpcError("NOT_FOUND", 404, { message: 'No procedure found on path "nope.nothing"' }),
  );
  await assert.rejects(
    untyped.mutation("greeting.hello", { name: "a" }),
    expectTrpcError("METHOD_NOT_SUPPORTED", 405, {
      message: 'Unsupported POST-request to query procedure at path "greeting.hello"',
    }),
  );
  passed("unknown path and wrong method");

  const big = "x".repeat((1 << 20) + 1);
  await assert.rejects(
    plain.counter.add.mutate({ a: 1, b: 1, pad: big }),
    expectTrpcError("PAYLOAD_TOO_LARGE", 413),
  );
  await assert.rejects(
    batched.counter.add.mutate({ a: 1, b: 1, pad: big }),
    expectTrpcError("PAYLOAD_TOO_LARGE", 413),
  );
  passed("body over the limit is PAYLOAD_TOO_LARGE");

  // --- subscriptions ---
  const ticks = await collect(plain, "ticks", { upto: 3 });
  assert.equal(ticks.error, null);
  assert.ok(ticks.started && ticks.stopped);
  assert.deepEqual(ticks.values, [
    { id: "1", data: { n: 1 } },
    { id: "2", data: { n: 2 } },
    { id: "3", data: { n: 3 } },
  ]);
  passed("tracked subscription values, then return completes it");

  const flaky = await collect(plain, "flaky", {});
  assert.equal(flaky.error, null);
  assert.deepEqual(
    flaky.values.map((v) => [v.id, v.data.resumedFrom]),
    [
      ["1", null],
      ["2", null],
      ["3", "2"],
    ],
  );
  passed("internal error mid-stream: client reconnects with Last-Event-ID and resumes");

  const invalid = await collect(plain, "ticks", { upto: 1000 });
  assert.ok(invalid.error);
  expectTrpcError("BAD_REQUEST", 400, { path: "ticks" })(invalid.error);
  assert.match(invalid.error.message, /^upto: Input should be less than or equal to 100/);
  passed("subscription input validation error reaches onError");

  const unauthorized = await collect(anonymous, "ticks", { upto: 1 });
  expectTrpcError("UNAUTHORIZED", 401, { path: "ticks" })(unauthorized.error);
  passed("subscription without credentials is UNAUTHORIZED");

  console.log(JSON.stringify({ ok: true, mode: "suite", checks }));
}

/** One clock subscription, kept open while the test restarts the server under it. */
async function restart() {
  const seen = [];
  const states = [];
  let stopped = false;
  let announced = false;
  await withTimeout(
    new Promise((resolve, reject) => {
      const sub = plain.clock.subscribe(
        {},
        {
          onData: ({ id, data }) => {
            seen.push({ id, n: data.n, server: data.server });
            if (!announced && seen.length >= 3) {
              announced = true;
              console.log(JSON.stringify({ ready: true, lastId: id }));
            }
            if (seen.filter((e) => e.server === "B").length >= 3) {
              sub.unsubscribe();
              resolve();
            }
          },
          onError: (error) => reject(error),
          onStopped: () => {
            stopped = true;
          },
          onConnectionStateChange: (state) => states.push(state.state),
        },
      );
    }),
    30000,
    "clock across a restart",
  );
  assert.equal(stopped, false, "the restart must not look like a normal end (no return event)");
  assert.deepEqual(
    states.filter((s, i) => s !== states[i - 1]),
    ["connecting", "pending", "connecting", "pending"],
    "connected, lost the server, reconnected",
  );
  const ns = seen.map((e) => e.n);
  assert.deepEqual(
    ns,
    ns.map((_, i) => i + 1),
    "no gap, no duplicate across the restart",
  );
  const firstB = seen.findIndex((e) => e.server === "B");
  assert.ok(firstB >= 3, "saw server A first");
  assert.ok(seen.slice(0, firstB).every((e) => e.server === "A"));
  console.log(
    JSON.stringify({
      ok: true,
      mode: "restart",
      events: seen.length,
      resumedAt: seen[firstB].n,
      states,
    }),
  );
}

const mode = process.argv[2] ?? "suite";
try {
  if (mode === "suite") await suite();
  else if (mode === "restart") await restart();
  else throw new Error(`unknown mode ${mode}`);
  process.exit(0);
} catch (err) {
  console.error(err);
  process.exit(1);
}
