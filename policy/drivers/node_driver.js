'use strict';
// sandboxd's JavaScript session driver (docs/sessions.md), run by /usr/bin/node.
//
// Keeps one global scope between calls, like Node's REPL: `var`, `let`, `const`, functions and
// classes declared at the top level of one call are there in the next. It talks to sandboxd
// over the socket it gets as stdin, in frames of an ASCII decimal length, a newline and a JSON
// object: {"ready": true, "version"} once, then for each {"code": "..."} a reply
// {"status": "ok"|"error", "exit_code", "value", "error": {"name", "value", "traceback"}, "images": []}.
// The value of the last expression is shown as the REPL shows it (util.inspect); a promise is
// awaited first. console output goes to the jail's stdout and stderr (synchronous for pipes),
// which sandboxd captures.

const net = require('net');
const stream = require('stream');
const util = require('util');
const vm = require('vm');

// The socket is fd 0; the code gets an empty stdin instead, so it cannot read the frames.
const control = new net.Socket({ fd: 0, readable: true, writable: true });
const emptyStdin = new stream.Readable({ read() { this.push(null); } });
Object.defineProperty(process, 'stdin', { value: emptyStdin, configurable: true, enumerable: true });

// What the REPL offers at the top level.
globalThis.require = require;
globalThis.module = module;

// An error thrown by a callback between calls is reported, not fatal (the REPL does the same).
process.on('uncaughtException', (error) => console.error('Uncaught', error));
process.on('unhandledRejection', (error) => console.error('Unhandled rejection', error));

let cells = 0;

function send(message) {
  const payload = Buffer.from(JSON.stringify(message), 'utf8');
  control.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
}

// The stack down to the cell's own frames: the driver's and vm's are no concern of the code's.
function trimmedStack(error) {
  const lines = String(error.stack || error).split('\n');
  const ours = lines.findIndex((line) => line.includes('node:vm') || line.includes(__filename));
  return (ours > 0 ? lines.slice(0, ours) : lines).join('\n');
}

function describe(error) {
  if (error instanceof Error) return { name: error.name, value: error.message, traceback: trimmedStack(error) };
  return { name: 'Uncaught', value: util.inspect(error), traceback: `Uncaught ${util.inspect(error)}` };
}

async function run(code) {
  cells += 1;
  try {
    let value = vm.runInThisContext(code, { filename: `<cell ${cells}>`, displayErrors: false });
    if (value !== null && typeof value === 'object' && typeof value.then === 'function') value = await value;
    return {
      status: 'ok',
      exit_code: 0,
      value: value === undefined ? null : util.inspect(value),
      error: null,
      images: [],
    };
  } catch (error) {
    return { status: 'error', exit_code: 1, value: null, error: describe(error), images: [] };
  }
}

let buffered = Buffer.alloc(0);
let queue = Promise.resolve();

control.on('data', (chunk) => {
  buffered = Buffer.concat([buffered, chunk]);
  for (;;) {
    const newline = buffered.indexOf(10);
    if (newline < 0) return;
    const length = Number(buffered.subarray(0, newline).toString('ascii'));
    if (!Number.isSafeInteger(length)) process.exit(70);
    if (buffered.length < newline + 1 + length) return;
    const request = JSON.parse(buffered.subarray(newline + 1, newline + 1 + length).toString('utf8'));
    buffered = buffered.subarray(newline + 1 + length);
    queue = queue.then(() => run(String(request.code ?? ''))).then(send);
  }
});
control.on('end', () => process.exit(0));
control.on('error', () => process.exit(0));

send({ ready: true, version: process.versions.node });
