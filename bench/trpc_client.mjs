// The conversation benchmark's cycle through the official @trpc/client (httpLink).
//
//   node trpc_client.mjs SPEC.json
//
// The spec (from bench/trpc_client.py): the server's url, the measured window on
// CLOCK_MONOTONIC (process.hrtime.bigint, as Python's perf_counter_ns), timeouts and
// the pairs: {asker: {id, token}, answerer: {id, token}, target: {toAgentId|taskId|phaseId}}.
// Each agent gets its own client whose fetch runs over node:http with a keep-alive
// Agent holding one socket (like the bench client's one connection per agent). Prints
// one JSON line: {completed, errors, firstError, latenciesNs, cpuS}.
import { readFileSync } from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";

const require = createRequire(new URL("../tests/compat/package.json", import.meta.url));
const { createTRPCClient, httpLink } = require("@trpc/client");

const STOP = "that is all";
// A client-chosen id per ask, as `cw ask` sends (21 characters of nanoid's alphabet).
const ID_ALPHABET = "useandom-26T198340PX75pxJACKVERYMINDBUSHWOLF_GQZbfghjklqvwyzrict";
const newId = () =>
  Array.from(crypto.getRandomValues(new Uint8Array(21)), (b) => ID_ALPHABET[b & 63]).join("");
const MAX_CYCLES_PER_PAIR = 1_000_000;

// fetch as httpLink calls it (url, {method, headers, body, signal}), over node:http.
function keepAliveFetch() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return (url, { method, headers, body, signal }) =>
    new Promise((resolve, reject) => {
      const sent = { ...headers };
      if (body !== undefined) sent["content-length"] = Buffer.byteLength(body);
      const request = http.request(url, { method, headers: sent, agent, signal }, (response) => {
        const chunks = [];
        response.on("data", (chunk) => chunks.push(chunk));
        response.on("error", reject);
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            ok: response.statusCode >= 200 && response.statusCode < 300,
            status: response.statusCode,
            statusText: response.statusMessage,
            headers: new Headers(response.headers),
            json: async () => JSON.parse(text),
            text: async () => text,
          });
        });
      });
      request.on("error", reject);
      request.end(body);
    });
}

function client(url, token) {
  const headers = { authorization: `Bearer ${token}` };
  return createTRPCClient({ links: [httpLink({ url, headers, fetch: keepAliveFetch() })] });
}

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const windowStart = BigInt(spec.windowStartNs);
const windowEnd = BigInt(spec.windowEndNs);
const now = () => process.hrtime.bigint();
const sleepUntil = (deadline) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(deadline - now()) / 1e6)));

const result = { completed: 0, errors: 0, firstError: null, latenciesNs: [], cpuS: 0 };
function failed(err) {
  result.errors += 1;
  result.firstError ??= String(err?.stack ?? err);
}

async function askLoop(pair, asker) {
  try {
    for (let n = 0; n < MAX_CYCLES_PER_PAIR && now() < windowEnd; n++) {
      const question = `q${n} from ${pair.asker.id}`;
      const started = now();
      const asked = await asker.conversation.ask.mutate({
        id: newId(),
        fromAgentId: pair.asker.id,
        ...pair.target,
        question,
      });
      const waited = await asker.conversation.waitForAnswer.query({
        id: asked.id,
        timeoutMs: spec.waitTimeoutMs,
      });
      const ended = now();
      if (waited.status !== "answered" || waited.answer !== `re: ${question}`) {
        throw new Error(`wrong answer for ${asked.id}: ${JSON.stringify(waited)}`);
      }
      if (asked.toAgentId !== pair.answerer.id) {
        throw new Error(`the ask went to ${asked.toAgentId}, not the answerer`);
      }
      if (ended >= windowStart && ended <= windowEnd) {
        result.completed += 1;
        result.latenciesNs.push(Number(ended - started));
      }
    }
    const last = await asker.conversation.ask.mutate({
      id: newId(),
      fromAgentId: pair.asker.id,
      ...pair.target,
      question: STOP,
    });
    await asker.conversation.waitForAnswer.query({ id: last.id, timeoutMs: spec.waitTimeoutMs });
  } catch (err) {
    failed(err);
  }
}

async function answerLoop(pair, answerer) {
  const giveUp = windowEnd + BigInt((spec.waitTimeoutMs + spec.listenTimeoutMs) * 1e6);
  try {
    for (let n = 0; n < MAX_CYCLES_PER_PAIR; n++) {
      if (now() > giveUp) throw new Error("the asker never sent its last question");
      const questions = await answerer.conversation.listen.query({
        agentId: pair.answerer.id,
        timeoutMs: spec.listenTimeoutMs,
      });
      for (const question of questions) {
        await answerer.conversation.answer.mutate({
          id: question.id,
          answer: `re: ${question.question}`,
        });
        if (question.question === STOP) return;
      }
    }
  } catch (err) {
    failed(err);
  }
}

async function measureCpu() {
  await sleepUntil(windowStart);
  const before = process.cpuUsage();
  await sleepUntil(windowEnd);
  const used = process.cpuUsage(before);
  result.cpuS = (used.user + used.system) / 1e6;
}

const loops = [measureCpu()];
for (const pair of spec.pairs) {
  loops.push(askLoop(pair, client(spec.url, pair.asker.token)));
  loops.push(answerLoop(pair, client(spec.url, pair.answerer.token)));
}
await Promise.all(loops);
console.log(JSON.stringify(result));
process.exit(0);
