import { LokiError } from '../errors/index.ts';
import {
  checkpointMessage,
  LOKI_GIT_IDENTITY,
  plainGitDirectory,
  readLooseCommitParents,
  readLooseRef,
  runAutoMaintenance,
  runGit,
} from '../git/index.ts';
import type { GateResult } from '../gates/index.ts';
import type { CommandRunner } from '../sandbox/index.ts';
import { bringCheckedOutMainForward } from './bring-main-checkout-forward.ts';
import { IntegrationWorktree, WITHOUT_HOOKS } from './integration-worktree.ts';
import {
  checkMergeGates,
  GateVerdictLedger,
  type MergeGateOutcome,
  type StageGateSettings,
  ProvenCommands,
} from './merge-gate-check.ts';
import { type CandidateWorktree, GateLedger, greenPrefixLength, verifyCandidate } from './merge-gates.ts';

export interface MergeRequest {
  taskId: string;
  agentType: string;
  title: string;
  /** The task branch (normally `loki/<task-id>`); it is never moved or rewritten. */
  branch: string;
  /** Run in order with `/bin/sh -c` on the rebased result; the first failure stops the merge. */
  verifyCommands: readonly string[];
  /** Git trailers for the checkpoint (e.g. `Loki-Task: <id>`), so a resumed run can tell what main already holds. */
  trailers?: Readonly<Record<string, string>>;
  /** The worker holding the task: a remote merger names it to the merge coordinator (unused locally). */
  workerId?: string;
  /**
   * Asked when the merge starts and again right before main moves: true when the merge is no longer
   * wanted (the task was cancelled, or its worker lost it). Main then never gets its work.
   */
  isWithdrawn?: () => Promise<boolean>;
  signal?: AbortSignal;
}

export type MergeResult =
  | {
      outcome: 'merged';
      /** The checkpoint commit main now points at. */
      commit: string;
      /** Main before this merge (the checkpoint's parent). */
      previousMain: string;
      /**
       * Set when main is checked out in a worktree whose files could not be brought forward (local
       * changes in the way). Main itself moved; that checkout lags behind until the user updates it.
       */
      staleCheckout?: { path: string; details: string };
    }
  | { outcome: 'conflict'; files: string[]; details: string }
  | {
      outcome: 'verification_failed';
      command: string;
      exitCode: number | null;
      outputTail: string;
      /** Set when a quality gate refused the merge; `command` is then what that gate ran. */
      gate?: { name: string; reason: string; hasCommand: boolean };
    }
  /** `isWithdrawn` said so: main is untouched. */
  | { outcome: 'withdrawn' };

export interface MergeQueueOptions {
  repositoryRoot: string;
  /** The integration worktree lives at `<workDirectory>/integration`; created once and reused. */
  workDirectory: string;
  commandRunner: CommandRunner;
  /** The complete environment of verify commands (see `buildSandboxEnvironment`). */
  verifyEnvironment: Readonly<Record<string, string>>;
  mainBranch?: string;
  verifyTimeoutMilliseconds?: number;
  maxOutputBytes?: number;
  allowNetwork?: boolean;
  /** Most merges verified and moved onto main together when several are waiting (1 = never batch). */
  maxBatchSize?: number;
  /** How many times a merge starts over when main moves between the rebase and the ref update. */
  maxMainRaceAttempts?: number;
  /**
   * The project's gates (the architecture's verifyCommands), read at each merge: every merge result
   * must pass them, as well as the task's own verify commands, before main moves (see GateLedger).
   */
  projectGates?: () => readonly string[];
  /**
   * The quality gates (src/gates) every merge result is judged by before main moves, read at each
   * merge: one that main passes must not fail on the result (see checkMergeGates). None when absent.
   */
  mergeGates?: () => StageGateSettings;
  /** Each quality gate's verdict on a merge result, and whether it refused the merge. */
  onGateEvaluated?: (evaluation: GateEvaluation) => void;
  /** Clock for the gates' evidence (file freshness); Date.now when absent. */
  now?: () => number;
  /** Stops the work a batch shares (the run's stop); each merge also has its own request signal. */
  signal?: AbortSignal;
}

const OUTPUT_TAIL_CHARACTERS = 4_000;

export interface GateEvaluation {
  /** The task whose merge result was judged (the last of a batch). */
  taskId: string;
  commit: string;
  result: GateResult;
  blocks: boolean;
}

/**
 * Merges task branches into main in order: rebase onto main in a private integration worktree,
 * squash into one checkpoint commit, verify (the task's commands and the project's gates), then
 * move main. Merges that queue up meanwhile are verified and moved together as a batch.
 *
 * Invariant: main moves only in the final `git update-ref <main> <checkpoint> <old main>`, which is
 * atomic and guarded by the old value. Everything before it happens on a detached HEAD in the
 * integration worktree, so a conflict, a red verification, an abort or a kill -9 at any moment
 * leaves main exactly where it was, and a main that moved meanwhile is never overwritten.
 */
export class MergeQueue {
  readonly #options: MergeQueueOptions;
  readonly #mainReference: string;
  readonly #integration: IntegrationWorktree;
  /** Merges asked for and not started yet; the drain loop takes them in order, several at a time. */
  readonly #pending: PendingMerge[] = [];
  /** The drain loop, while it runs: merges never interleave, even when called concurrently. */
  #draining: Promise<void> | null = null;
  /**
   * The checkpoint this queue's last merge left checked out in the integration worktree (no rebase
   * in progress; files the verification wrote may still be there); null when unknown (no merge yet,
   * or one that stopped half-way). A merge onto that same main skips the opening reset and instead
   * cleans once, right after checking out its own checkpoint: nothing else touches this private
   * worktree between two merges.
   */
  #lastMergedAt: string | null = null;
  #mainTip: string | null = null;
  /**
   * Every commit main has been at since this queue last read it from git and found it where the
   * queue had left it: each is an ancestor of #mainTip (checkpoints are made on top of the previous
   * main and main only moves by the guarded update-ref). Lets a one-commit branch on top of one of
   * them be recognised without asking git.
   */
  #mainHistory = new Set<string>();
  /** What the project's gates said on recent commits: the ratchet every merge is held to. */
  readonly #gates = new GateLedger();
  /** What the quality gates said on recent commits, and the commands they proved there. */
  readonly #gateVerdicts = new GateVerdictLedger();
  readonly #proven = new ProvenCommands();

  constructor(options: MergeQueueOptions) {
    this.#options = options;
    this.#mainReference = `refs/heads/${options.mainBranch ?? 'main'}`;
    this.#integration = new IntegrationWorktree({
      repositoryRoot: options.repositoryRoot,
      workDirectory: options.workDirectory,
      mainReference: this.#mainReference,
    });
  }

  get integrationPath(): string {
    return this.#integration.path;
  }

  /** Where this queue last moved main (null before its first merge): saves asking git. */
  get mainTip(): string | null {
    return this.#mainTip;
  }

  merge(request: MergeRequest): Promise<MergeResult> {
    return new Promise<MergeResult>((resolve, reject) => {
      this.#pending.push({ request, resolve, reject });
      // Started after the current turn of the event loop: merges handed over together (the merge
      // coordinator's waiting requests) are taken as one batch, not the first alone and then the rest.
      this.#draining ??= new Promise<void>((started) => setImmediate(started))
        .then(() => this.#drain())
        .finally(() => {
          this.#draining = null;
        });
    });
  }

  /** Waits for queued merges, then removes the integration worktree (main and task branches stay). */
  async close(): Promise<void> {
    while (this.#draining !== null) await this.#draining;
    await this.#integration.remove();
    // The checkpoints were committed without git's automatic housekeeping: it runs once, here.
    if (this.#mainTip !== null) await runAutoMaintenance(this.#options.repositoryRoot);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Takes the waiting merges in order: one alone goes through the single merge; several handed over
   * together, or that queued up while the previous merge ran, go through one batch (see #mergeBatch).
   */
  async #drain(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE);
      const [only] = batch;
      if (batch.length === 1 && only !== undefined) await this.#settle(only);
      else await this.#mergeBatch(batch);
    }
  }

  async #settle(pending: PendingMerge): Promise<void> {
    try {
      pending.resolve(await this.#mergeWithRaceRetries(pending.request));
    } catch (error) {
      pending.reject(error);
    }
  }

  /**
   * Several merges at once, like a merge queue's batch: each branch of the one-commit shape is
   * squashed onto the previous one's checkpoint (merge-tree, no checkout), and the last checkpoint
   * is verified once (every member's commands and the project's gates, in one sandboxed shell). Green:
   * main moves once, guarded as always, over all of them; each task keeps its own checkpoint. Red:
   * the batch is bisected on its checkpoints to find the first member that turns it red; the members
   * before it move main, the culprit goes through the single merge (which names the failing command),
   * and the members after it queue again. A branch of another shape or with a conflict, or a main
   * that moved meanwhile, falls back to the single merge. Main only ever moves to a verified commit.
   *
   * Longer than our usual function on purpose: it is one guarded sequence (read main, build the
   * checkpoints, verify, move main once with the value read at the start) whose locals (the main
   * it read, the tip, the members) every stage needs, kept in one place so the invariant reads whole.
   */
  async #mergeBatch(batch: PendingMerge[]): Promise<void> {
    const signal = this.#options.signal;
    const leftovers: PendingMerge[] = [];
    try {
      await this.#prepareIntegration(signal);
      // Where this queue last moved main, when it did: the guarded update-ref below catches any
      // other writer (the batch then falls back to single merges, which read main afresh).
      const previousMain =
        this.#mainTip ?? this.#observeMain(await this.#revParse(this.#mainReference, signal));
      const isResetSkipped = this.#lastMergedAt === previousMain;
      this.#lastMergedAt = null;
      if (!isResetSkipped) await this.#integration.reset(previousMain, signal);
      const { members, tip } = await this.#checkpointBatch(batch, previousMain, leftovers);
      if (members.length > 0) {
        await this.#integration.checkOut(tip, signal);
        if (isResetSkipped) {
          await runGit(this.#integration.path, ['clean', '-ffdq'], signal === undefined ? {} : { signal });
        }
        await this.#landGreenPrefix(members, previousMain, tip, leftovers);
      }
    } catch (error) {
      // A promise settles once: the members already resolved as merged keep that answer.
      for (const pending of batch) pending.reject(error);
      return;
    }
    for (const pending of leftovers) await this.#settle(pending);
  }

  /**
   * Each member's squashed change committed on top of the one before it (by merge-tree, no
   * checkout). A member withdrawn meanwhile is answered at once; one that does not apply cleanly
   * goes to `leftovers` (the single merge handles it).
   */
  async #checkpointBatch(
    batch: readonly PendingMerge[],
    previousMain: string,
    leftovers: PendingMerge[],
  ): Promise<{ members: BatchMember[]; tip: string }> {
    const signal = this.#options.signal;
    const members: BatchMember[] = [];
    let tip = previousMain;
    for (const pending of batch) {
      if (await isWithdrawn(pending.request)) {
        pending.resolve({ outcome: 'withdrawn' });
        continue;
      }
      const tree = pending.request.signal?.aborted
        ? null
        : await this.#squashedTreeByMergeTree(pending.request, tip, signal);
      if (tree === null) {
        leftovers.push(pending);
        continue;
      }
      const checkpoint = (
        await runGit(
          this.#integration.path,
          [
            'commit-tree',
            tree,
            '-p',
            tip,
            '-m',
            checkpointMessage(pending.request),
            ...trailerArguments(pending.request),
          ],
          { env: LOKI_GIT_IDENTITY, ...(signal === undefined ? {} : { signal }) },
        )
      ).stdout.trim();
      members.push({ pending, checkpoint, parent: tip });
      tip = checkpoint;
    }
    return { members, tip };
  }

  /**
   * The gates find the longest green prefix of the checkpointed members; main moves (guarded)
   * to its last member not withdrawn. The culprit, and a main that moved meanwhile, go to
   * `leftovers`; the members after them queue again.
   */
  async #landGreenPrefix(
    members: readonly BatchMember[],
    previousMain: string,
    tip: string,
    leftovers: PendingMerge[],
  ): Promise<void> {
    const signal = this.#options.signal;
    const last = members.at(-1);
    const gateCheck =
      last === undefined
        ? { passed: true }
        : await this.#checkQualityGates(last.pending.request.taskId, tip, previousMain, signal);
    if (!gateCheck.passed) {
      // A quality gate main passes fails on the batch: each member is merged (and judged) on its own.
      await this.#integration.reset(previousMain, signal);
      leftovers.unshift(...members.map((member) => member.pending));
      return;
    }
    const greenCount = await greenPrefixLength({
      candidates: members.map((member) => ({
        checkpoint: member.checkpoint,
        verifyCommands: member.pending.request.verifyCommands,
      })),
      base: previousMain,
      gates: this.#options.projectGates?.() ?? [],
      ledger: this.#gates,
      worktree: this.#candidateWorktree(signal),
      isProven: (commit, command) => this.#proven.has(commit, command),
      ...(signal === undefined ? {} : { signal }),
    });
    const green = members.slice(0, greenCount);
    const culprit = members[greenCount];
    // Right before main moves: a member withdrawn meanwhile stays off main, and so does
    // everything checkpointed on top of it (it holds its changes); those queue again.
    const withdrawnAt = await firstWithdrawn(green);
    const withdrawn = withdrawnAt === -1 ? undefined : green[withdrawnAt];
    const kept = withdrawnAt === -1 ? green : green.slice(0, withdrawnAt);
    const requeued = members.slice(withdrawnAt === -1 ? greenCount + 1 : withdrawnAt + 1);
    const landed = kept.at(-1);
    const update =
      landed === undefined
        ? null
        : await runGit(
            this.#options.repositoryRoot,
            [
              'update-ref',
              '-m',
              `loki merge: ${kept.length} checkpoints`,
              this.#mainReference,
              landed.checkpoint,
              previousMain,
            ],
            { allowFailure: true },
          );
    if (update !== null && update.exitCode !== 0) {
      // Main moved under the batch: each member is merged (and verified) on its own, on the new main.
      await this.#integration.reset(previousMain, signal);
      leftovers.unshift(...members.map((member) => member.pending));
      return;
    }
    if (landed !== undefined) await this.#landed(kept, previousMain, landed.checkpoint);
    if (landed?.checkpoint === tip) this.#lastMergedAt = tip;
    withdrawn?.pending.resolve({ outcome: 'withdrawn' });
    // The culprit alone first, so its failing command is named; the rest queue again.
    if (withdrawn === undefined && culprit !== undefined) leftovers.unshift(culprit.pending);
    this.#pending.unshift(...requeued.map((member) => member.pending));
  }

  /** Main moved to the last of `kept`: each of them is merged, on top of the one before it. */
  async #landed(kept: BatchMember[], previousMain: string, tip: string): Promise<void> {
    this.#mainTip = tip;
    for (const member of kept) this.#mainHistory.add(member.checkpoint);
    const staleCheckout = await this.#bringMainCheckoutForward(previousMain, tip);
    for (const member of kept) {
      member.pending.resolve({
        outcome: 'merged',
        commit: member.checkpoint,
        previousMain: member.parent,
        ...(staleCheckout === undefined ? {} : { staleCheckout }),
      });
    }
  }

  /** The configured quality gates on `candidate` (checked out), held to the ratchet against `base`. */
  async #checkQualityGates(
    taskId: string,
    candidate: string,
    base: string,
    signal: AbortSignal | undefined,
  ): Promise<MergeGateOutcome> {
    const settings = this.#options.mergeGates?.();
    if (settings === undefined || settings.gates.length === 0) return { passed: true };
    const worktree = this.#candidateWorktree(signal);
    const changed = await runGit(
      this.#integration.path,
      ['diff', '--name-only', '-z', '--no-renames', '--diff-filter=d', base, candidate, '--'],
      signal === undefined ? {} : { signal },
    );
    return checkMergeGates({
      settings,
      candidate,
      base,
      directory: this.#integration.path,
      checkOut: (commit) => worktree.checkOut(commit),
      changedFiles: changed.stdout.split('\0').filter((path) => path !== ''),
      runner: this.#options.commandRunner,
      env: this.#options.verifyEnvironment,
      timeoutMilliseconds: this.#options.verifyTimeoutMilliseconds ?? 10 * 60_000,
      verdicts: this.#gateVerdicts,
      proven: this.#proven,
      now: this.#options.now ?? Date.now,
      onResult: (result, blocks) =>
        this.#options.onGateEvaluated?.({ taskId, commit: candidate, result, blocks }),
      ...(signal === undefined ? {} : { signal }),
    });
  }

  /** The integration worktree as verifyCandidate sees it. */
  #candidateWorktree(signal: AbortSignal | undefined): CandidateWorktree {
    return {
      run: (command) => this.#runVerification(command, signal),
      checkOut: async (commit) => {
        await this.#integration.checkOut(commit, signal);
        await runGit(this.#integration.path, ['clean', '-ffdq'], signal === undefined ? {} : { signal });
      },
    };
  }

  #runVerification(command: string, signal: AbortSignal | undefined) {
    return this.#options.commandRunner.run({
      command,
      cwd: this.#integration.path,
      writableDirectory: this.#integration.path,
      timeoutMilliseconds: this.#options.verifyTimeoutMilliseconds ?? 10 * 60_000,
      env: this.#options.verifyEnvironment,
      allowNetwork: this.#options.allowNetwork ?? false,
      maxOutputBytes: this.#options.maxOutputBytes ?? 256 * 1024,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  async #mergeWithRaceRetries(request: MergeRequest): Promise<MergeResult> {
    const maxAttempts = this.#options.maxMainRaceAttempts ?? 3;
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const result = await this.#mergeOnce(request);
      if (result !== 'main_moved') return result;
    }
    throw new LokiError(
      `main kept moving while ${request.branch} was being merged (${maxAttempts} attempts); stop other writers to main and retry`,
      {
        code: 'MERGE_MAIN_MOVED',
        category: 'internal',
        isRetryable: true,
        context: { taskId: request.taskId, branch: request.branch },
      },
    );
  }

  /**
   * One merge: main read once, the branch squashed onto it, the checkpoint verified, then main moved
   * by the one guarded update-ref. Kept as one function (past our usual length) for the same reason
   * as #mergeBatch: the value of main read at the start guards the move at the end.
   */
  async #mergeOnce(request: MergeRequest): Promise<MergeResult | 'main_moved'> {
    const { signal } = request;
    const signalOption = signal === undefined ? {} : { signal };
    const integration = this.#integration.path;
    if (await isWithdrawn(request)) return { outcome: 'withdrawn' };
    await this.#prepareIntegration(signal);

    const previousMain = this.#observeMain(await this.#revParse(this.#mainReference, signal));
    let isResetSkipped = this.#lastMergedAt === previousMain;
    this.#lastMergedAt = null;
    if (!isResetSkipped) await this.#integration.reset(previousMain, signal);

    let squashed: string | MergeResult | null = await this.#squashedTreeByMergeTree(
      request,
      previousMain,
      signal,
    );
    if (squashed === null) {
      // The rebase works in the integration worktree, so that one has to be clean first.
      if (isResetSkipped) await this.#integration.reset(previousMain, signal);
      isResetSkipped = false;
      squashed = await this.#squashedTreeByRebase(request, previousMain);
    }
    if (typeof squashed !== 'string') return squashed;

    // Squash: one checkpoint commit on top of main with the rebased tree and the Loki identity.
    const tree = squashed;
    const message = checkpointMessage(request);
    const checkpoint = (
      await runGit(
        integration,
        ['commit-tree', tree, '-p', previousMain, '-m', message, ...trailerArguments(request)],
        {
          env: LOKI_GIT_IDENTITY,
          ...signalOption,
        },
      )
    ).stdout.trim();
    await this.#integration.checkOut(checkpoint, signal);
    // After a reset the worktree had nothing untracked; without one, what the last verification left goes now.
    if (isResetSkipped) await runGit(integration, ['clean', '-ffdq'], signalOption);

    const refused = await this.#verifyCheckpoint(request, checkpoint, previousMain);
    if (refused !== null) {
      await this.#integration.reset(previousMain, signal);
      return refused;
    }

    signal?.throwIfAborted();
    // Asked again at the last moment: a task cancelled while it was verified never reaches main.
    if (await isWithdrawn(request)) return { outcome: 'withdrawn' };
    // The one and only place main moves. The old value guards it: if anything moved main since
    // `previousMain` was read, git refuses and the merge starts over on the new main. From here on
    // the signal is no longer passed: an abort must not make a merge that happened look failed.
    const update = await runGit(
      this.#options.repositoryRoot,
      ['update-ref', '-m', `loki merge: ${message}`, this.#mainReference, checkpoint, previousMain],
      { allowFailure: true },
    );
    if (update.exitCode !== 0) {
      const current = await this.#revParse(this.#mainReference, undefined);
      if (current !== previousMain) return 'main_moved';
      throw new LokiError(`could not move main to ${checkpoint}: ${update.stderr.trim()}`, {
        code: 'MERGE_UPDATE_REF_FAILED',
        category: 'internal',
        context: { taskId: request.taskId, checkpoint, previousMain },
      });
    }
    this.#lastMergedAt = checkpoint;
    this.#mainTip = checkpoint;
    this.#mainHistory.add(checkpoint);
    const staleCheckout = await this.#bringMainCheckoutForward(previousMain, checkpoint);
    return {
      outcome: 'merged',
      commit: checkpoint,
      previousMain,
      ...(staleCheckout === undefined ? {} : { staleCheckout }),
    };
  }

  /**
   * The checkpoint (checked out) judged before main may move: the quality gates first (the tests
   * they run are then proven, not run again), then the task's commands and the project's gates.
   * Null when it may land; otherwise the refusal.
   */
  async #verifyCheckpoint(
    request: MergeRequest,
    checkpoint: string,
    previousMain: string,
  ): Promise<MergeResult | null> {
    const { signal } = request;
    const gateCheck = await this.#checkQualityGates(request.taskId, checkpoint, previousMain, signal);
    if (!gateCheck.passed) return refusedByGate(gateCheck);
    const verdict = await verifyCandidate({
      candidate: checkpoint,
      base: previousMain,
      taskCommands: request.verifyCommands,
      gates: this.#options.projectGates?.() ?? [],
      ledger: this.#gates,
      worktree: this.#candidateWorktree(signal),
      isProven: (commit, command) => this.#proven.has(commit, command),
      ...(signal === undefined ? {} : { signal }),
    });
    if (verdict.passed) return null;
    const { command, exitCode, outputTail } = verdict;
    return { outcome: 'verification_failed', command, exitCode, outputTail };
  }

  /**
   * The tree of the task's work on top of main, without a worktree: `git merge-tree --write-tree`.
   * Only for the usual shape, one commit with one parent on top of an older main. Replaying that
   * one commit (what the rebase does) is a three-way merge with its parent as base, main as ours and
   * the commit as theirs; that parent is on main, so it is the merge base merge-tree picks, and both
   * use merge-ort: the tree is the one the rebase would give. Anything else (several commits, a
   * merge commit, nothing new, a conflict) returns null and goes through the rebase, which also
   * reports conflicts exactly as before.
   */
  async #squashedTreeByMergeTree(
    request: MergeRequest,
    previousMain: string,
    signal: AbortSignal | undefined,
  ): Promise<string | null> {
    const signalOption = signal === undefined ? {} : { signal };
    const knownTip = this.#oneCommitOnMainHistory(request.branch);
    // Both only read (merge-tree writes nothing but objects), so they run side by side; the tree
    // is used only when the branch has the one-commit shape.
    const [isOneCommit, merged] = await Promise.all([
      knownTip !== undefined ||
        runGit(
          this.#integration.path,
          ['rev-list', '--parents', `${previousMain}..${request.branch}`, '--'],
          {
            allowFailure: true,
            ...signalOption,
          },
        ).then((ownCommits) => {
          const lines = ownCommits.stdout.split('\n').filter((line) => line.length > 0);
          return ownCommits.exitCode === 0 && lines.length === 1 && lines[0]?.split(' ').length === 2;
        }),
      runGit(
        this.#integration.path,
        ['merge-tree', '--write-tree', previousMain, knownTip ?? request.branch],
        {
          allowFailure: true,
          ...signalOption,
        },
      ),
    ]);
    // Exit 0 is not enough: merge-tree that cannot read the branch's tree says so on stderr and
    // still prints a tree (the empty one), which would become main. Anything on stderr: the rebase
    // path decides, and it fails loudly on what it cannot read.
    if (!isOneCommit || merged.exitCode !== 0 || merged.stderr.trim() !== '') return null;
    const tree = merged.stdout.split('\n')[0]?.trim() ?? '';
    return /^[0-9a-f]{40,64}$/.test(tree) ? tree : null;
  }

  /**
   * The branch's tip when git's own files show it is one commit whose only parent is a main this
   * queue saw (every merge is made onto main or a checkpoint on top of it, so that parent is in the
   * history of what it merges onto, and merge-tree replays exactly that commit); undefined when
   * that cannot be told without asking git.
   */
  #oneCommitOnMainHistory(branch: string): string | undefined {
    const gitDirectory = plainGitDirectory(this.#options.repositoryRoot);
    if (gitDirectory === undefined) return undefined;
    const tip = readLooseRef(gitDirectory, `refs/heads/${branch}`);
    if (tip === undefined || this.#mainHistory.has(tip)) return undefined;
    const parents = readLooseCommitParents(gitDirectory, tip);
    const [parent] = parents ?? [];
    return parents?.length === 1 && parent !== undefined && this.#mainHistory.has(parent) ? tip : undefined;
  }

  /** Main as just read from git: when it is not where this queue left it, what the queue knew of it is forgotten. */
  #observeMain(main: string): string {
    if (main !== this.#mainTip) this.#mainHistory = new Set([main]);
    return main;
  }

  /** The tree of the task's work rebased onto main in the integration worktree, or the conflict. */
  async #squashedTreeByRebase(request: MergeRequest, previousMain: string): Promise<string | MergeResult> {
    const { signal } = request;
    const signalOption = signal === undefined ? {} : { signal };
    const integration = this.#integration.path;
    // A detached copy of the task branch: the rebase rewrites this copy, never the branch itself.
    await this.#integration.checkOut(request.branch, signal);
    const rebase = await runGit(
      integration,
      [
        ...WITHOUT_HOOKS,
        '-c',
        'rebase.autoStash=false',
        '-c',
        'commit.gpgSign=false',
        'rebase',
        '--no-verify',
        previousMain,
      ],
      { allowFailure: true, env: LOKI_GIT_IDENTITY, ...signalOption },
    );
    if (rebase.exitCode !== 0) {
      const conflicted = await runGit(integration, ['diff', '--name-only', '--diff-filter=U'], {
        allowFailure: true,
        ...signalOption,
      });
      const files = conflicted.stdout.split('\n').filter((line) => line.length > 0);
      await this.#integration.reset(previousMain, signal);
      if (files.length === 0) {
        throw new LokiError(`rebasing ${request.branch} onto main failed: ${tail(rebase.stderr.trim())}`, {
          code: 'MERGE_REBASE_FAILED',
          category: 'internal',
          context: { taskId: request.taskId, branch: request.branch, exitCode: rebase.exitCode },
        });
      }
      return { outcome: 'conflict', files, details: tail(`${rebase.stdout}\n${rebase.stderr}`.trim()) };
    }

    return await this.#revParse('HEAD^{tree}', signal);
  }

  /** The integration worktree exists; when it had to be made, nothing is known of what it holds. */
  async #prepareIntegration(signal: AbortSignal | undefined): Promise<void> {
    if (await this.#integration.prepare(signal)) this.#lastMergedAt = null;
  }

  async #bringMainCheckoutForward(
    previousMain: string,
    checkpoint: string,
  ): Promise<{ path: string; details: string } | undefined> {
    const stale = await bringCheckedOutMainForward({
      repositoryRoot: this.#options.repositoryRoot,
      mainReference: this.#mainReference,
      previousMain,
      checkpoint,
    });
    return stale === undefined ? undefined : { path: stale.path, details: tail(stale.details) };
  }

  async #revParse(revision: string, signal: AbortSignal | undefined): Promise<string> {
    const result = await runGit(this.#integration.path, ['rev-parse', '--verify', revision], {
      ...(signal === undefined ? {} : { signal }),
    });
    return result.stdout.trim();
  }
}

interface PendingMerge {
  request: MergeRequest;
  resolve: (result: MergeResult) => void;
  reject: (error: unknown) => void;
}

/** A member of a batch: its checkpoint, made on top of the previous member's (or main). */
interface BatchMember {
  pending: PendingMerge;
  checkpoint: string;
  parent: string;
}

function refusedByGate(check: Extract<MergeGateOutcome, { passed: false }>): MergeResult {
  return {
    outcome: 'verification_failed',
    command: check.command,
    exitCode: check.exitCode,
    outputTail: check.outputTail,
    gate: {
      name: check.result.gate,
      reason: check.result.reason,
      hasCommand: check.result.evidence.command !== null,
    },
  };
}

function isWithdrawn(request: MergeRequest): Promise<boolean> {
  return request.isWithdrawn?.() ?? Promise.resolve(false);
}

/** The index of the first member whose merge was withdrawn, or -1. */
async function firstWithdrawn(members: readonly BatchMember[]): Promise<number> {
  for (const [index, member] of members.entries()) {
    if (await isWithdrawn(member.pending.request)) return index;
  }
  return -1;
}

const DEFAULT_MAX_BATCH_SIZE = 10;

function trailerArguments(request: MergeRequest): string[] {
  const entries = Object.entries(request.trailers ?? {});
  if (entries.length === 0) return [];
  return ['-m', entries.map(([key, value]) => `${key}: ${value.replace(/\s+/g, ' ').trim()}`).join('\n')];
}

function tail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARACTERS ? text : `…${text.slice(-OUTPUT_TAIL_CHARACTERS)}`;
}
