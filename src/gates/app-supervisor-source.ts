/**
 * The app under test's supervisor, written by us and run with `node -e` INSIDE the sandbox, next to
 * the app. Arguments: the unix socket to listen on (relative to the project directory, which the
 * sandbox shares with Loki), the app's port, the session's nonce. The start command arrives in
 * LOKI_START_COMMAND (it may be model-written, so it is never spliced into code).
 *
 * Why a supervisor: a sandbox without network has its own loopback, out of reach of the tools on
 * Loki's side (autocannon, Chromium). The unix socket is the bridge: a socket file in the shared
 * directory is reachable from any network namespace. Each connection opens with the supervisor
 * saying `LOKI <nonce>`; Loki sends nothing before it has read that, so a socket file the app
 * swapped for a link to some host daemon's socket gets nothing from Loki. Then Loki says what it
 * wants, one line:
 * - `proxy`: the rest of the connection is piped to 127.0.0.1:<port>, the app;
 * - `restart`: SIGKILL to the app's process group (a crash), then the same start command again;
 * - `output`: the end of the app's output so far;
 * - `cut`: SIGKILL to the app's dependencies: the processes the start command started that listen
 *   on a port other than the app's (a database, a cache, a second service). Answers their list.
 *
 * The supervisor exits with the app, unless the app was killed on purpose, so that Loki sees an
 * app that died by itself as the end of its sandboxed command.
 */
export const APP_SUPERVISOR_SOURCE = String.raw`
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const { spawn } = require('node:child_process');
const [socketPath, portText, nonce] = process.argv.slice(1);
const port = Number(portText);
const appEnv = { ...process.env };
delete appEnv.LOKI_START_COMMAND;
delete appEnv.LOKI_APP_SUPERVISOR;
delete appEnv.LOKI_NODE;
let app = null;
let killedOnPurpose = null;
let outputTail = '';
function keep(chunk) {
  process.stderr.write(chunk);
  outputTail = (outputTail + chunk.toString()).slice(-4000);
}

function start() {
  const child = spawn('/bin/sh', ['-c', process.env.LOKI_START_COMMAND], {
    env: appEnv,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  app = child;
  child.on('exit', (code, signal) => {
    if (killedOnPurpose === child) return;
    process.stderr.write('loki: the app exited by itself (' + (signal || 'exit ' + code) + ')\n');
    process.exit(code === null ? 1 : code);
  });
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    if (error.code === 'ESRCH') return false;
    throw error;
  }
}

async function restart() {
  const old = app;
  killedOnPurpose = old;
  if (old.exitCode === null && old.signalCode === null) {
    const exited = new Promise((resolve) => old.once('exit', resolve));
    process.kill(-old.pid, 'SIGKILL');
    await exited;
  }
  const deadline = Date.now() + 10000;
  while (groupAlive(old.pid)) {
    if (Date.now() > deadline) throw new Error('the app\'s processes outlived SIGKILL for 10 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  start();
}

function listeningSockets() {
  const ports = new Map();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || fields[3] !== '0A') continue;
      ports.set(fields[9], parseInt(fields[1].split(':').pop(), 16));
    }
  }
  return ports;
}

function descendants(rootPid) {
  const children = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(parent)) children.set(parent, []);
      children.get(parent).push(Number(name));
    } catch {
      continue;
    }
  }
  const found = [rootPid];
  for (let index = 0; index < found.length; index += 1) found.push(...(children.get(found[index]) || []));
  return found;
}

function dependencies() {
  const sockets = listeningSockets();
  const result = [];
  for (const pid of descendants(app.pid)) {
    const ports = new Set();
    let command = '';
    try {
      for (const fd of fs.readdirSync('/proc/' + pid + '/fd')) {
        const match = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync('/proc/' + pid + '/fd/' + fd));
        if (match && sockets.has(match[1])) ports.add(sockets.get(match[1]));
      }
      command = fs.readFileSync('/proc/' + pid + '/cmdline', 'utf8').split('\0').join(' ').trim();
    } catch {
      continue;
    }
    if (ports.size > 0 && !ports.has(port)) result.push({ pid, ports: [...ports], command });
  }
  return result;
}

function cut() {
  const found = dependencies();
  for (const dependency of found) {
    try {
      process.kill(dependency.pid, 'SIGKILL');
    } catch (error) {
      if (error.code !== 'ESRCH') throw error;
    }
  }
  return found;
}

function serve(connection) {
  connection.write('LOKI ' + nonce + '\n');
  let buffered = Buffer.alloc(0);
  const onData = (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf(10);
    if (end === -1) return;
    connection.off('data', onData);
    connection.pause();
    const request = buffered.subarray(0, end).toString();
    const rest = buffered.subarray(end + 1);
    if (request === 'proxy') {
      const upstream = net.connect(port, '127.0.0.1');
      upstream.on('error', () => connection.destroy());
      connection.on('error', () => upstream.destroy());
      if (rest.length > 0) upstream.write(rest);
      connection.pipe(upstream).pipe(connection);
      connection.resume();
    } else if (request === 'restart') {
      restart().then(
        () => connection.end('ok\n'),
        (error) => connection.end('error ' + error.message + '\n'),
      );
    } else if (request === 'output') {
      connection.end(outputTail);
    } else if (request === 'cut') {
      connection.end(JSON.stringify(cut()) + '\n');
    } else {
      connection.destroy();
    }
  };
  connection.on('data', onData);
  connection.on('error', () => connection.destroy());
}

process.on('SIGTERM', () => {
  killedOnPurpose = app;
  try {
    process.kill(-app.pid, 'SIGTERM');
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
  process.exit(143);
});
start();
net.createServer(serve).listen(socketPath);
`;
