import { closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';

// `cerememory-recorder install-hook codex` (reference spec §9.3): writes a best-effort Codex hook
// script that turns Codex hook payloads into Capture Events and pipes them to `ingest`, plus an
// example hooks.json to copy from. It never edits the user's own hook settings.

export const HOOK_SCRIPT = '.codex/hooks/cerememory-recorder-codex-hook.py';
export const HOOK_EXAMPLE = '.codex/hooks/cerememory-recorder.example.json';

export class InstallHookError extends Error {
  override name = 'InstallHookError';
}

/** The hook script; the server URL is baked in as a Python string literal (JSON is valid Python here). */
export function codexHookScript(serverUrl: string): string {
  return `#!/usr/bin/env python3
# Cerememory recorder hook for Codex, written by \`cerememory-recorder install-hook codex\`.
# Reads one Codex hook payload (JSON) on stdin, turns it into a Capture Event and pipes it to
# \`cerememory-recorder ingest\`. Best effort: it always exits 0 so Codex carries on, and says on
# stderr what went wrong. The recorder redacts secrets before anything is sent or spooled.
import json
import os
import shlex
import subprocess
import sys

SERVER_URL = ${JSON.stringify(serverUrl)}
TIMEOUT_SECONDS = 15
EVENT_TYPES = {
    "UserPromptSubmit": "user_message",
    "PreToolUse": "tool_call",
    "PostToolUse": "tool_result",
    "Stop": "session_summary",
    "SubagentStop": "session_summary",
    "Notification": "session_summary",
}
CONTENT_FIELDS = ("message", "prompt", "summary", "transcript", "tool_response", "tool_result", "response",
                  "result", "output", "stdout", "stderr", "tool_input", "input", "command")
METADATA_FIELDS = ("tool_name", "tool_call_id", "tool_use_id", "tool_input", "tool_result", "action_id",
                   "exit_code", "status", "cwd", "transcript_path")


def first(payload, *names):
    for name in names:
        value = payload.get(name)
        if value is not None and value != "":
            return value
    return None


def as_text(value):
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def capture_event(payload):
    hook_event = payload.get("hook_event_name")
    event_type = payload.get("event_type") or EVENT_TYPES.get(hook_event, "session_summary")
    content = first(payload, *CONTENT_FIELDS)
    metadata = {name: payload[name] for name in METADATA_FIELDS if payload.get(name) is not None}
    metadata["codex_hook_event"] = hook_event
    metadata["cwd"] = payload.get("cwd") or os.getcwd()
    event = {
        "session_id": os.environ.get("CODEX_SESSION_ID") or first(payload, "session_id", "conversation_id", "thread_id") or "codex-local",
        "event_type": event_type,
        "content": as_text(content if content is not None else payload),
        "source": "codex",
        "metadata": metadata,
    }
    for field, names in (("action_id", ("action_id", "tool_call_id", "tool_use_id")),
                         ("turn_id", ("turn_id", "message_id")),
                         ("timestamp", ("timestamp", "created_at"))):
        value = first(payload, *names)
        if value is not None:
            event[field] = str(value)
    return event


def main():
    try:
        payload = json.loads(sys.stdin.read() or "{}")
        if not isinstance(payload, dict):
            payload = {"payload": payload}
        event = capture_event(payload)
        command = shlex.split(os.environ.get("CEREMEMORY_RECORDER_BIN") or "cerememory-recorder")
        done = subprocess.run(command + ["ingest", "--server-url", SERVER_URL], input=json.dumps(event) + "\\n",
                              text=True, capture_output=True, timeout=TIMEOUT_SECONDS)
        if done.returncode != 0:
            sys.stderr.write("cerememory-recorder hook: recorder exited %d: %s\\n" % (done.returncode, done.stderr.strip()))
    except subprocess.TimeoutExpired:
        sys.stderr.write("cerememory-recorder hook: recorder took longer than %d s; skipped\\n" % TIMEOUT_SECONDS)
    except Exception as error:  # best effort: never stop Codex
        sys.stderr.write("cerememory-recorder hook: %s\\n" % error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
`;
}

/** An example hooks.json (Codex's event → matcher group → handlers layout) to merge by hand. */
export function codexHookExample(): string {
  const handler = [{ hooks: [{ type: 'command', command: `python3 ${HOOK_SCRIPT}`, timeout: 20 }] }];
  const toolHandler = [{ matcher: '.*', ...handler[0] }];
  return `${JSON.stringify({ hooks: { UserPromptSubmit: handler, PreToolUse: toolHandler, PostToolUse: toolHandler, Stop: handler } }, null, 2)}\n`;
}

/**
 * Writes both files under `targetDir`. Both paths are checked before either is written: an existing
 * file is refused unless `force`, a symlink always (writing through it could clobber anything).
 */
export function installCodexHook(options: { targetDir: string; serverUrl: string; force: boolean }): string[] {
  const files = [
    { path: join(options.targetDir, HOOK_SCRIPT), text: codexHookScript(options.serverUrl), mode: 0o755 },
    { path: join(options.targetDir, HOOK_EXAMPLE), text: codexHookExample(), mode: 0o644 },
  ];
  for (const file of files) {
    let stats;
    try {
      stats = lstatSync(file.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (stats.isSymbolicLink()) throw new InstallHookError(`${file.path} is a symlink; refusing to write through it (even with --force)`);
    if (!options.force) throw new InstallHookError(`${file.path} already exists; use --force to overwrite`);
    if (!stats.isFile()) throw new InstallHookError(`${file.path} exists and is not a regular file`);
  }
  mkdirSync(join(options.targetDir, '.codex/hooks'), { recursive: true });
  for (const file of files) {
    // O_NOFOLLOW: a symlink planted between the check and the write is refused by the kernel.
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0);
    const fd = openSync(file.path, flags, file.mode);
    try {
      writeSync(fd, file.text);
      fchmodSync(fd, file.mode);
    } finally {
      closeSync(fd);
    }
  }
  return files.map((file) => file.path);
}
