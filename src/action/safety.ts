// Whether the action may build and run a pull request's code here. A fork's code on a self-hosted runner
// can persist on the machine, read what other jobs leave there and reach the runner's network; under
// pull_request_target it would also run with a write token and the repository's secrets.
import type { PullRequestEvent } from './context.ts';

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
