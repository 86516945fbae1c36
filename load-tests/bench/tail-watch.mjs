// A diagnostic preload for the processes the bench starts: where a message's time may go, second
// by second. Load it with
//   TAIL_WATCH_DIR=<dir> BENCH_NODE_ARGS="--single-threaded-gc --import=./load-tests/bench/tail-watch.mjs"
// and each process writes `<dir>/<role>-<pid>.jsonl`, one line a second: its event loop's delay
// (p50, p99, max), its garbage collections (count, total and longest pause), and its PostgreSQL
// calls, `append_messages` apart from the rest (count, total, longest, over 10 and over 25 ms).
// A slow call beside a long event-loop delay tells the database from the process; this is how a
// growing unread count was found (docs/benchmarks.md, the third quiet-machine run).
//
// Plain JavaScript, as node's --import runs it before tsx is loaded. The PostgreSQL timing wraps
// pg's Client#query, the one path kysely's dialect sends through; it measures, it changes nothing.
import { openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const dir = process.env.TAIL_WATCH_DIR;

if (dir) {
  const entry = process.argv.find((arg) => /apps\/\w+\/src\/main\.ts$/.test(arg));
  const role =
    entry?.match(/apps\/(\w+)\//)?.[1] ??
    ['relay', 'load-generator'].find((name) => process.argv.some((arg) => arg.includes(name))) ??
    'other';
  const out = openSync(`${dir}/${role}-${process.pid}.jsonl`, 'a');

  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const tally = () => ({ n: 0, total_ms: 0, max_ms: 0, over_10_ms: 0, over_25_ms: 0 });
  const note = (t, ms) => {
    t.n++;
    t.total_ms += ms;
    t.max_ms = Math.max(t.max_ms, ms);
    if (ms > 10) t.over_10_ms++;
    if (ms > 25) t.over_25_ms++;
  };
  let gc = tally();
  let append = tally();
  let other = tally();

  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) note(gc, entry.duration);
  }).observe({ entryTypes: ['gc'] });

  try {
    // The app's own pg: resolved from the working directory, as the app resolves it.
    const { Client } = createRequire(`${process.cwd()}/package.json`)('pg');
    const query = Client.prototype.query;
    Client.prototype.query = function timedQuery(config, ...rest) {
      const result = query.call(this, config, ...rest);
      if (typeof result?.then === 'function') {
        const text = typeof config === 'string' ? config : (config?.text ?? '');
        const calls = text.includes('append_messages') ? append : other;
        const started = performance.now();
        result.then(
          () => note(calls, performance.now() - started),
          () => undefined,
        );
      }
      return result;
    };
  } catch {
    // No pg in this process (a relay): the other figures still come.
  }

  const ms = (ns) => Math.round(ns / 1e5) / 10;
  const rounded = (t) => ({
    ...t,
    total_ms: Math.round(t.total_ms),
    max_ms: Math.round(t.max_ms * 10) / 10,
  });
  const started = Date.now();
  setInterval(() => {
    const line = {
      t_ms: Date.now() - started,
      at: Date.now(),
      event_loop_delay_ms: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        max: ms(loop.max),
      },
      gc: rounded(gc),
      append_messages: rounded(append),
      other_queries: rounded(other),
    };
    writeSync(out, `${JSON.stringify(line)}\n`);
    loop.reset();
    gc = tally();
    append = tally();
    other = tally();
  }, 1000).unref();
}
