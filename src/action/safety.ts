// Whether the action may build and run a pull request's code here. A fork's code on a self-hosted runner
// can persist on the machine, read what other jobs leave there and reach the runner's network; under
// pull_request_target it would also run with a write token and the repository's secrets.
import type { PullRequestEvent, RunContext } from './context.ts';
import type { ActionInputs } from './inputs.ts';
import { ActionError, type Io } from './runner-log.ts';

export type Decision = { allowed: true; note?: string } | { allowed: false; reason: string };

export function isFork(pr: PullRequestEvent): boolean {
  return pr.headRepo === null || pr.headRepo.toLowerCase() !== pr.baseRepo.toLowerCase();
}

export function mayBuildPullRequest(options: {
  eventName: string;
  pullRequest: PullRequestEvent;
  selfHosted: boolean;
  allowForkOnSelfHosted: boolean;
}): Decision {
  const { pullRequest: pr } = options;
  if (!isFork(pr)) return { allowed: true };
  const from = pr.headRepo ?? 'a deleted fork';
  if (options.eventName === 'pull_request_target') {
    return {
      allowed: false,
      reason:
        `refusing to build pull request #${pr.number} from ${from} under pull_request_target: that event runs ` +
        "with a write token and the repository's secrets, so building the fork's code would hand them to it. " +
        'Use the fork-safe pair of workflows instead: `on: pull_request` with `mode: pr` uploads the report, ' +
        'and `on: workflow_run` with `mode: post` comments (see docs/action.md#fork-safe-workflows).',
    };
  }
  if (!options.selfHosted) return { allowed: true };
  if (options.allowForkOnSelfHosted) {
    return {
      allowed: true,
      note: `building pull request #${pr.number} from fork ${from} on a self-hosted runner because allow-fork-on-self-hosted is true`,
    };
  }
  return {
    allowed: false,
    reason:
      `refusing to build pull request #${pr.number} from fork ${from} on a self-hosted runner: its build ` +
      'command and model would run on this machine with its network and whatever earlier jobs left on it, ' +
      'and could persist there for later jobs. Run fork pull requests on GitHub-hosted runners, or use an ' +
      'ephemeral, isolated runner and set `allow-fork-on-self-hosted: true` (together with a required approval ' +
      'for workflows from outside collaborators).',
  };
}

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);

/**
 * Whether a mode that runs a build or a model (`pr`, `baseline`) may run in this context. `baseline`
 * exists for pushes to the default branch: on a pull request its report would become the base of later
 * pull requests, so it runs there only when asked to, and then under the same fork rules as `pr`. Under
 * `workflow_run` following a fork's pull request run, the workspace may hold the fork's code while the
 * token can write: refused, like `pull_request_target`.
 */
export function mayRunMode(options: {
  mode: 'pr' | 'baseline';
  ctx: Pick<RunContext, 'eventName' | 'pullRequest' | 'selfHosted' | 'workflowRun' | 'repository'>;
  allowForkOnSelfHosted: boolean;
  allowBaselineOnPullRequest: boolean;
}): Decision {
  const { mode, ctx } = options;
  if (mode === 'baseline' && PULL_REQUEST_EVENTS.has(ctx.eventName) && !options.allowBaselineOnPullRequest) {
    return {
      allowed: false,
      reason:
        `refusing to run mode: baseline on a ${ctx.eventName} event: a baseline is the report of a commit on ` +
        'the default branch (run it `on: push`), and the report of a pull request would become the base ' +
        'that later pull requests are compared with. Use `mode: pr` here, or set ' +
        '`allow-baseline-on-pull-request: true` if this is really meant.',
    };
  }
  const run = ctx.workflowRun;
  if (run && PULL_REQUEST_EVENTS.has(run.event)) {
    const repo = `${ctx.repository.owner}/${ctx.repository.repo}`.toLowerCase();
    if (run.headRepo === null || run.headRepo.toLowerCase() !== repo) {
      return {
        allowed: false,
        reason:
          `refusing to run mode: ${mode} on a workflow_run event that follows a pull request run from ` +
          `${run.headRepo ?? 'a deleted fork'}: this workflow has a write token and the repository's ` +
          "secrets, and building or running the fork's code here would hand them to it. Use `mode: post` " +
          'in the workflow_run workflow; it reads the report artifact and runs no code ' +
          '(see docs/action.md#fork-safe-workflows).',
      };
    }
  }
  if (!ctx.pullRequest) return { allowed: true };
  return mayBuildPullRequest({
    eventName: ctx.eventName,
    pullRequest: ctx.pullRequest,
    selfHosted: ctx.selfHosted,
    allowForkOnSelfHosted: options.allowForkOnSelfHosted,
  });
}

/** Stops the run (ActionError) unless `mayRunMode` allows it; logs its note when it does. */
export function guardRun(mode: 'pr' | 'baseline', inputs: ActionInputs, ctx: RunContext, io: Io): void {
  const decision = mayRunMode({
    mode,
    ctx,
    allowForkOnSelfHosted: inputs.allowForkOnSelfHosted,
    allowBaselineOnPullRequest: inputs.allowBaselineOnPullRequest,
  });
  if (!decision.allowed) throw new ActionError(decision.reason);
  if (decision.note) io.warning(decision.note);
}
