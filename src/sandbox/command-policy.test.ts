import { describe, expect, it } from 'vitest';
import { isLokiError } from '../errors/index.ts';
import { assertCommandAllowed, createCommandPolicy, evaluateCommand } from './command-policy.ts';

const location = { workspace: '/work/tree' };
const policy = createCommandPolicy();

function deniedRule(command: string): string | null {
  const decision = evaluateCommand(policy, command, location);
  return decision.isAllowed ? null : decision.rule.id;
}

describe('command policy', () => {
  it.each([
    ['rm -rf /', 'rm-root'],
    ['rm -rf /*', 'rm-root'],
    ['rm -fr ~', 'rm-root'],
    ['rm -r -f ~/', 'rm-root'],
    ['sudo rm -rf "/"', 'rm-root'],
    ['cd x && /bin/rm -rf $HOME', 'rm-root'],
    ['rm -rf ${HOME}/*', 'rm-root'],
    ["sh -c 'rm -rf /'", 'rm-root'],
    ['rm -rf --no-preserve-root /tmp/../', 'rm-no-preserve-root'],
    ['rm -rf /usr', 'rm-system-directory'],
    ['mkfs.ext4 /dev/sda1', 'make-filesystem'],
    ['dd if=/dev/zero of=/dev/sda bs=1M', 'dd-to-device'],
    [':(){ :|:& };:', 'fork-bomb'],
    ['bomb() { bomb | bomb & }; bomb', 'fork-bomb'],
    ['git push --force origin main', 'git-force-push'],
    ['git push -f', 'git-force-push'],
    ['git -C repo push --force-with-lease', 'git-force-push'],
    ['git push origin +main', 'git-force-push'],
    ['shutdown -h now', 'shutdown'],
    ['echo done; reboot', 'shutdown'],
    ['kill -9 -1', 'kill-all-processes'],
    ['echo x > /etc/passwd', 'redirect-outside-workspace'],
    ['echo x >> ~/.bashrc', 'redirect-outside-workspace'],
    ['cat a 2>/tmp/log > /etc/hosts', 'redirect-outside-workspace'],
    ['echo x > ../../outside.txt', 'redirect-outside-workspace'],
    ['echo x | sudo tee -a /etc/hosts', 'tee-outside-workspace'],
  ])('denies %s (%s)', (command, ruleId) => {
    expect(deniedRule(command)).toBe(ruleId);
  });

  it.each([
    'rm -rf build/ dist',
    'rm -rf ./node_modules',
    'rm -rf /tmp/cache',
    'npm test 2>&1 | tail -n 50',
    'echo hi > out.txt && cat out.txt > /dev/null 2>/dev/stderr',
    'echo x > /work/tree/src/file.ts',
    'echo x > /tmp/scratch.txt',
    'git push origin task-branch',
    'git push --follow-tags',
    'dd if=/dev/zero of=./image.bin count=1',
    'grep -rn "shutdown" src/',
    'node -e "process.exit(0)"',
    'ls -la / && df -h',
  ])('allows %s', (command) => {
    expect(deniedRule(command)).toBeNull();
  });

  it('names the rule and what to do instead in a SANDBOX_COMMAND_DENIED error', () => {
    const error = (() => {
      try {
        assertCommandAllowed(policy, 'git push -f origin main', location);
        return null;
      } catch (caught) {
        return caught;
      }
    })();
    expect(isLokiError(error) && error.code).toBe('SANDBOX_COMMAND_DENIED');
    expect(error instanceof Error && error.message).toMatch(
      /rule "git-force-push".*Instead: commit on your task branch/,
    );
  });

  it('is configurable: extra rules from strings, rules switched off by id', () => {
    const custom = createCommandPolicy({
      extraRules: [
        { id: 'no-curl', pattern: String.raw`\bcurl\b`, reason: 'no downloads', instead: 'vendor it' },
      ],
      disabledRuleIds: ['git-force-push'],
    });
    expect(evaluateCommand(custom, 'curl https://example.com', location)).toMatchObject({ isAllowed: false });
    expect(evaluateCommand(custom, 'git push -f', location)).toEqual({ isAllowed: true });
    expect(() =>
      createCommandPolicy({ extraRules: [{ id: 'bad', pattern: '(', reason: 'r', instead: 'i' }] }),
    ).toThrow(/rule "bad" has an invalid pattern/);
  });
});
