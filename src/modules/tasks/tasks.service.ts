import { cachedFor } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { notFound } from '../../platform/errors.js';
import { noFaults, type Faults } from '../../platform/faults.js';
import type { Caller } from '../../platform/http/route.js';
import type { AuditTrail } from '../audit/index.js';
import type { TaskEffect, TaskProgress } from '../events/index.js';
import { derivedOpId, type LedgerService } from '../ledger/index.js';
import type { MembersService } from '../members/index.js';
import type { Sweeper } from '../../platform/sweeper.js';
import { counterKey, eventCounts, payKeyOf, windowEnd } from './tasks.evaluate.js';
import type { PayoutDoc, Reward, TaskDoc, TasksRepository } from './tasks.model.js';
import type { MyTaskView, TaskInput } from './tasks.schemas.js';

/** How long an instance serves task definitions and badge codes from memory (changes made on this instance apply at once). */
const CACHE_MS = 2000;
/** How long after a payout is claimed the sweeper may pay it (the event that claimed it has answered or died by then). */
const SWEEP_GRACE_MS = 60_000;
const KIND_PAY = 'task.pay';

export const toTaskView = (d: TaskDoc) => {
  const { _id, createdAt, updatedAt, auditId: _auditId, ...task } = d;
  return { ...task, code: _id, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() };
};

const rewardOf = (t: TaskDoc): Reward => ({ points: t.reward.points ?? 0, growth: t.reward.growth ?? 0, badge: t.reward.badge ?? null });

export type TasksDeps = {
  repo: TasksRepository;
  clock: Clock;
  audit: AuditTrail;
  points: LedgerService;
  growth: LedgerService;
  members: MembersService;
  programTimezone: string;
  /** Records each payout before it is claimed, so the sweep pays one whose event died before paying. */
  sweeper: Pick<Sweeper, 'owe' | 'discharge' | 'on'>;
  faults?: Faults;
};

export function tasksService(deps: TasksDeps) {
  const { repo, clock, programTimezone: zone } = deps;
  const faults = deps.faults ?? noFaults;
  const definitions = cachedFor(CACHE_MS, () => repo.all());
  const badgeCodes = cachedFor(CACHE_MS, () => repo.badgeCodes());

  /**
   * Pays what a payout claim holds. Op ids derive from (task, member, payKey), so running it again — a retried event, or
   * the claim's owner after a crash — pays exactly once; the badge is a unique insert.
   */
  async function pay(claim: PayoutDoc, actor: Caller, retry: boolean): Promise<Reward> {
    const { reward, memberId, task, payKey } = claim;
    const ref = { type: 'task', id: task };
    const op = (ledger: 'points' | 'growth') => ({ opId: derivedOpId(ledger, 'task', task, memberId, payKey), actor, retry });
    if (reward.points > 0) await deps.points.earnPoints(memberId, { amount: reward.points, code: 'task', ref }, op('points'));
    if (reward.growth > 0) await deps.growth.earnPoints(memberId, { amount: reward.growth, code: 'task', ref }, op('growth'));
    if (reward.badge) {
      await repo.awardBadge({ _id: `${memberId}:${reward.badge.code}`, memberId, code: reward.badge.code, name: reward.badge.name, task, awardedAt: clock.now() });
    }
    return reward;
  }

  /** The sweeper's side of a payout: pays the claim its event made and did not live to pay, if it made one. */
  deps.sweeper.on(KIND_PAY, async (record) => {
    const claim = await repo.getPayout(String(record.data.payoutId));
    if (claim && claim.eventScope === record.data.eventScope) await pay(claim, { role: 'service', sub: 'tasks' }, true);
  });

  const paid = (task: TaskDoc, reward: Reward): TaskEffect => ({
    task: task._id,
    progress: task.target,
    target: task.target,
    completed: true,
    reward: { points: reward.points, growth: reward.growth, badge: reward.badge?.code ?? null },
  });

  /**
   * Counts one event for one task: the first free slot of its counter (or the one a retried event already holds);
   * the event holding the last slot claims the payout and pays. When every slot is taken and nobody has claimed the
   * payout (the completing event died before claiming, or ops lowered the target), this event claims it instead —
   * the claim is a unique insert either way, so the task pays once per payKey.
   */
  async function advance(task: TaskDoc, memberId: string, occurredAt: Date, scope: string, actor: Caller, retry: boolean): Promise<TaskEffect | undefined> {
    const key = counterKey(task.window, occurredAt, zone);
    const counter = `${task._id}|${memberId}|${key}`;
    const payKey = payKeyOf(task, key);
    const payoutId = `${task._id}|${memberId}|${payKey}`;
    const done = await repo.getPayout(payoutId);
    if (done) return done.eventScope === scope ? paid(task, await pay(done, actor, true)) : undefined;

    const progress = await repo.progress(counter, task.target);
    const slot = (retry ? await repo.ownSlot(counter, progress, scope) : undefined) ?? (await repo.takeSlot(counter, progress, task.target, scope, clock.now()));
    if (slot !== undefined && slot < task.target) return { task: task._id, progress: slot, target: task.target, completed: false, reward: null };

    const fresh: PayoutDoc = { _id: payoutId, eventScope: scope, task: task._id, memberId, payKey, reward: rewardOf(task), at: clock.now() };
    // Recorded before the claim: if this event dies between claiming and paying, the sweep pays what it claimed.
    const dueId = `${KIND_PAY}|${memberId}|${payoutId}|${scope}`;
    await deps.sweeper.owe([{ _id: dueId, kind: KIND_PAY, memberId, dueAt: new Date(clock.now().getTime() + SWEEP_GRACE_MS), data: { payoutId, eventScope: scope } }]);
    const claim = await repo.claimPayout(fresh);
    faults.at('task:after-claim');
    if (claim.eventScope !== scope) {
      deps.sweeper.discharge(dueId);
      return slot === undefined ? undefined : { task: task._id, progress: slot, target: task.target, completed: true, reward: null };
    }
    const reward = await pay(claim, actor, retry || claim !== fresh);
    deps.sweeper.discharge(dueId);
    return paid(task, reward);
  }

  return {
    /** Creates or replaces a task (audited). Returns whether it was created. */
    async putTask(caller: Caller, code: string, input: TaskInput, requestId: string): Promise<{ task: TaskDoc; created: boolean }> {
      const { task: before, auditId: replaces } = await repo.get(code);
      const now = clock.now();
      // The badge code is catalogued before the task can award it, so the member summary always knows where to look.
      if (input.reward.badge) await repo.addBadgeCode(input.reward.badge.code, now);
      const task: TaskDoc = { ...input, code, _id: code, createdAt: before?.createdAt ?? now, updatedAt: now };
      const change = {
        kind: 'task.put',
        actor: caller,
        action: before ? 'task.update' : 'task.create',
        target: { type: 'task', id: code },
        before: before ? toTaskView(before) : null,
        after: toTaskView(task),
        requestId,
        replaces,
      };
      await deps.audit.audited(change, async (auditId) => {
        await repo.save(auditId ? { ...task, auditId } : task);
        definitions.invalidate();
        badgeCodes.invalidate();
      });
      return { task, created: !before };
    },

    /** Errors: 404 NOT_FOUND. */
    async getTask(code: string): Promise<TaskDoc> {
      const { task } = await repo.get(code);
      if (!task) throw notFound('task');
      return task;
    },

    listTasks: () => repo.all(),

    /** Deletes a task (audited); progress, payouts and badges already awarded stay. Errors: 404 NOT_FOUND. */
    async deleteTask(caller: Caller, code: string, requestId: string): Promise<void> {
      const { task: before, auditId: replaces } = await repo.get(code);
      if (!before) throw notFound('task');
      const change = { kind: 'task.delete', actor: caller, action: 'task.delete', target: { type: 'task', id: code }, before: toTaskView(before), after: null, requestId, replaces };
      await deps.audit.audited(change, async (auditId) => {
        await repo.remove(code, clock.now(), auditId);
        definitions.invalidate();
      });
    },

    /** The events pipeline's hook: advances every active task the event counts for, in code order. */
    progressFromEvent: (async ({ member, event, occurredAt, scope, actor, retry }) => {
      const createdAt = new Date(member.createdAt);
      const counting = (await definitions.get()).filter((t) => eventCounts(t, event, occurredAt, createdAt));
      const effects: TaskEffect[] = [];
      for (const task of counting) {
        const effect = await advance(task, member.memberId, occurredAt, scope, actor, retry);
        if (effect) effects.push(effect);
      }
      return effects;
    }) satisfies TaskProgress,

    /** Every active task with the member's progress in the current period (PRODUCT.md §7). Errors: 404 NOT_FOUND. */
    async listMemberTasks(memberId: string): Promise<MyTaskView[]> {
      const member = await deps.members.getMember(memberId);
      const now = clock.now();
      const active = (await definitions.get()).filter((t) => t.active);
      return Promise.all(
        active.map(async (t) => {
          const key = counterKey(t.window, now, zone);
          const payout = await repo.getPayout(`${t._id}|${memberId}|${payKeyOf(t, key)}`);
          const progress = payout ? t.target : await repo.progress(`${t._id}|${memberId}|${key}`, t.target);
          const deadline = windowEnd(t.window, now, new Date(member.createdAt), zone);
          return {
            code: t._id,
            name: t.name,
            description: t.description ?? null,
            eventType: t.eventType,
            target: t.target,
            progress,
            completed: payout !== null,
            deadline: deadline?.toISOString() ?? null,
            expired: payout === null && deadline !== null && now.getTime() >= deadline.getTime(),
            repeatable: t.repeatable,
            reward: rewardOf(t),
          };
        }),
      );
    },

    /** The member summary's badges: one read by _id per badge code ever defined, oldest award first. */
    async badgesOf(memberId: string): Promise<Array<{ code: string; name: string; awardedAt: string }>> {
      const held = await Promise.all((await badgeCodes.get()).map((code) => repo.getBadge(`${memberId}:${code}`)));
      return held
        .filter((b) => b !== null)
        .sort((a, b) => a.awardedAt.getTime() - b.awardedAt.getTime() || a.code.localeCompare(b.code))
        .map((b) => ({ code: b.code, name: b.name, awardedAt: b.awardedAt.toISOString() }));
    },
  };
}
export type TasksService = ReturnType<typeof tasksService>;
