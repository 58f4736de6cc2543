// The official @trpc/client 11 against the real crosswalk server: conversation.*.
//
//   CW_URL=http://127.0.0.1:PORT/trpc CW_ADMIN_TOKEN=... node conversations.mjs
//
// Registers two agents, then asks, listens, answers and waits through httpLink and
// httpBatchLink, receives onQuestion/onAnswer over httpSubscriptionLink, and checks
// that refusals surface as TRPCClientError with the right data.code. Prints one JSON
// line per check and a final {"ok":true,...} summary; any failure exits non-zero.
import assert from "node:assert/strict";
import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  httpSubscriptionLink,
  splitLink,
  TRPCClientError,
} from "@trpc/client";
import { EventSource } from "eventsource";

const url = process.env.CW_URL;
const adminToken = process.env.CW_ADMIN_TOKEN;
assert.ok(url && adminToken, "CW_URL and CW_ADMIN_TOKEN are required");

function client(token, { batch = false } = {}) {
  const headers = { authorization: `Bearer ${token}` };
  const link = batch ? httpBatchLink({ url, headers }) : httpLink({ url, headers });
  return createTRPCClient({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        true: httpSubscriptionLink({ url, EventSource, connectionParams: { token } }),
        false: link,
      }),
    ],
  });
}

const checks = [];
function passed(name) {
  checks.push(name);
  console.log(JSON.stringify({ passed: name }));
}

async function expectError(promise, code, httpStatus, messagePart) {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof TRPCClientError, `expected TRPCClientError, got ${err}`);
    assert.equal(err.data?.code, code, err.message);
    assert.equal(err.data?.httpStatus, httpStatus, err.message);
    assert.equal(err.data?.stack, undefined, "no stack traces");
    if (messagePart) assert.ok(err.message.includes(messagePart), err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
}

function nextEvents(subscribeFn, count, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const timer = setTimeout(() => {
      sub.unsubscribe();
      reject(new Error(`only ${seen.length} of ${count} events in ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = subscribeFn({
      onData(value) {
        seen.push(value);
        if (seen.length === count) {
          clearTimeout(timer);
          sub.unsubscribe();
          resolve(seen);
        }
      },
      onError(err) {
        clearTimeout(timer);
        sub.unsubscribe();
        reject(err);
      },
    });
  });
}

const admin = client(adminToken);
const health = await createTRPCClient({ links: [httpLink({ url })] }).health.query();
assert.equal(health.ok, true);
passed("health without credentials");

const alice = await admin.agent.create.mutate({ name: "compat-alice" });
const bob = await admin.agent.create.mutate({ name: "compat-bob" });
assert.match(alice.token, /^cw_/);
assert.equal(alice.tokenHash, undefined, "token hashes never leave the server");
passed("agent.create returns a token once");

const asAlice = client(alice.token);
const asBob = client(bob.token);
const asBobBatched = client(bob.token, { batch: true });

// httpLink: ask by name, listen, answer while alice waits.
const asked = await asAlice.conversation.ask.mutate({
  fromAgentId: alice.id,
  toAgentId: "compat-bob",
  question: "which port does the auth service use?",
});
assert.equal(asked.status, "pending");
assert.equal(asked.toAgentId, bob.id);
assert.match(asked.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
const heard = await asBob.conversation.listen.query({ agentId: bob.id, timeoutMs: 5000 });
assert.deepEqual(heard.map((c) => c.id), [asked.id]);
const waiting = asAlice.conversation.waitForAnswer.query({ id: asked.id, timeoutMs: 10000 });
const answered = await asBob.conversation.answer.mutate({ id: asked.id, answer: "8443" });
assert.equal(answered.status, "answered");
const woke = await waiting;
assert.equal(woke.answer, "8443");
passed("httpLink: ask, listen, answer, waitForAnswer");

// httpBatchLink: several queries in one request, then a mutation batch.
const second = await asAlice.conversation.ask.mutate({
  fromAgentId: alice.id,
  toAgentId: bob.id,
  question: "and the metrics port?",
});
const [got, pending, listened] = await Promise.all([
  asBobBatched.conversation.get.query({ id: second.id }),
  asBobBatched.conversation.pending.query({ agentId: bob.id }),
  asBobBatched.conversation.listen.query({ agentId: bob.id, timeoutMs: 0 }),
]);
assert.equal(got.question, "and the metrics port?");
assert.deepEqual(pending.map((c) => c.id), [second.id]);
assert.deepEqual(listened.map((c) => c.id), [second.id]);
const [answeredBatch, conflict] = await Promise.allSettled([
  asBobBatched.conversation.answer.mutate({ id: second.id, answer: "9100" }),
  asBobBatched.conversation.answer.mutate({ id: second.id, answer: "9200" }),
]);
assert.equal(answeredBatch.status, "fulfilled");
assert.equal(answeredBatch.value.answer, "9100");
assert.equal(conflict.status, "rejected");
assert.equal(conflict.reason.data.code, "CONFLICT");
const afterBatch = await asAlice.conversation.waitForAnswer.query({ id: second.id, timeoutMs: 0 });
assert.equal(afterBatch.answer, "9100");
passed("httpBatchLink: get, pending, listen, answer (one wins), waitForAnswer");

// Refusals.
await expectError(asAlice.conversation.get.query({ id: "nope" }), "NOT_FOUND", 404, "'nope'");
await expectError(
  asBob.conversation.answer.mutate({ id: asked.id, answer: "again" }),
  "CONFLICT",
  409,
  "already answered",
);
await expectError(
  asBob.conversation.ask.mutate({ fromAgentId: alice.id, toAgentId: bob.id, question: "x" }),
  "FORBIDDEN",
  403,
);
await expectError(
  client("cw_not-a-token").conversation.pending.query({ agentId: bob.id }),
  "UNAUTHORIZED",
  401,
);
await expectError(
  asAlice.conversation.ask.mutate({ fromAgentId: alice.id, toAgentId: bob.id, question: "" }),
  "BAD_REQUEST",
  400,
  "question",
);
await expectError(
  asAlice.conversation.ask.mutate({ fromAgentId: alice.id, toAgentId: alice.id, question: "me?" }),
  "BAD_REQUEST",
  400,
  "itself",
);
passed("errors surface as TRPCClientError with data.code");

// Asking by file: the same procedure takes `file` and `line`, validated at the wire.
await expectError(
  asAlice.conversation.ask.mutate({ fromAgentId: alice.id, file: "/etc/hosts", question: "?" }),
  "BAD_REQUEST",
  400,
  "relative to the repository root",
);
await expectError(
  asAlice.conversation.ask.mutate({ fromAgentId: alice.id, toAgentId: bob.id, line: 3, question: "?" }),
  "BAD_REQUEST",
  400,
  "line goes only with file",
);
await expectError(
  asAlice.conversation.ask.mutate({ fromAgentId: alice.id, file: "src/a.ts", line: 3, question: "?" }),
  "PRECONDITION_FAILED",
  412,
  "belongs to no initiative",
);
passed("asking by file: file and line, checked at the wire");

// Subscriptions: pending questions first, then new ones, each tracked by id.
const third = await asAlice.conversation.ask.mutate({
  fromAgentId: alice.id,
  toAgentId: bob.id,
  question: "pending before subscribing",
});
const events = nextEvents(
  (handlers) => asBob.conversation.onQuestion.subscribe({ agentId: bob.id }, handlers),
  2,
);
await new Promise((resolve) => setTimeout(resolve, 200));
const fourth = await asAlice.conversation.ask.mutate({
  fromAgentId: alice.id,
  toAgentId: bob.id,
  question: "asked while subscribed",
});
const received = await events;
assert.deepEqual(received.map((e) => e.id), [third.id, fourth.id]);
assert.equal(received[1].data.question, "asked while subscribed");
passed("httpSubscriptionLink: onQuestion delivers tracked questions");

const answerEvent = nextEvents(
  (handlers) => asAlice.conversation.onAnswer.subscribe({ id: third.id }, handlers),
  1,
);
await new Promise((resolve) => setTimeout(resolve, 100));
await asBob.conversation.answer.mutate({ id: third.id, answer: "done" });
const [answerData] = await answerEvent;
assert.equal(answerData.answer, "done");
passed("httpSubscriptionLink: onAnswer delivers the answer");

console.log(JSON.stringify({ ok: true, checks }));
process.exit(0);
