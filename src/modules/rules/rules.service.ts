import { DateTime } from 'luxon';
import { cachedFor } from '../../platform/cache.js';
import type { Clock } from '../../platform/clock.js';
import { notFound } from '../../platform/errors.js';
import type { Caller } from '../../platform/http/route.js';
import type { AuditTrail } from '../audit/index.js';
import { evaluateRule, type Evaluation, type MemberContext, type Rule, type RuleEvent } from './rules.evaluate.js';
import type { RuleDoc, RulesRepository } from './rules.model.js';
import type { RuleInput } from './rules.schemas.js';

/** How long an instance serves rules from memory before re-reading them (changes made on this instance apply at once). */
const CACHE_MS = 2000;

export const toRuleView = (d: RuleDoc) => {
  const { _id, createdAt, updatedAt, auditId: _auditId, ...rule } = d;
  return { ...rule, code: _id, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() };
};

export function rulesService(deps: { repo: RulesRepository; clock: Clock; audit: AuditTrail; programTimezone: string }) {
  const { repo, clock } = deps;
  const activeRules = cachedFor(CACHE_MS, () => repo.all());

  return {
    /** Creates or replaces a rule (audited). Returns whether it was created. */
    async putRule(caller: Caller, code: string, input: RuleInput, requestId: string): Promise<{ rule: RuleDoc; created: boolean }> {
      const before = await repo.get(code);
      const now = clock.now();
      const rule: RuleDoc = { ...input, code, _id: code, createdAt: before?.createdAt ?? now, updatedAt: now };
      const change = {
        kind: 'earning-rule.put',
        actor: caller,
        action: before ? 'earning-rule.update' : 'earning-rule.create',
        target: { type: 'earning-rule', id: code },
        before: before ? toRuleView(before) : null,
        after: toRuleView(rule),
        requestId,
        replaces: before?.auditId,
      };
      await deps.audit.audited(change, async (auditId) => {
        await repo.save(auditId ? { ...rule, auditId } : rule);
        activeRules.invalidate();
      });
      return { rule, created: !before };
    },

    /** Errors: 404 NOT_FOUND. */
    async getRule(code: string): Promise<RuleDoc> {
      const rule = await repo.get(code);
      if (!rule) throw notFound('earning rule');
      return rule;
    },

    listRules: () => repo.all(),

    /**
     * Every rule of the event's type, evaluated for this member, without writing anything. A `draft` (a dry run of an
     * unsaved edit) stands in for the saved rule of its code, or joins the rules when the code is new.
     */
    async evaluate(event: RuleEvent, member: MemberContext, draft?: Rule): Promise<Array<Evaluation & { ruleDoc: Rule }>> {
      const saved: Rule[] = await activeRules.get();
      const all = draft ? [...saved.filter((r) => r.code !== draft.code), draft] : saved;
      const rules = all.filter((r) => r.eventType === event.type);
      return rules.map((r) => ({ ...evaluateRule(r, event, member, deps.programTimezone), ruleDoc: r }));
    },

    /**
     * Takes the rule's daily and monthly cap slots for this event (member's calendar, program time zone); on a `retry`
     * (an earlier attempt of the event may have taken them) it finds the slots it holds instead of taking more.
     * Returns the cap that stopped it, or undefined when it may pay.
     */
    async claimCaps(rule: Rule, memberId: string, eventScope: string, occurredAt: Date, retry: boolean): Promise<string | undefined> {
      const local = DateTime.fromJSDate(occurredAt, { zone: deps.programTimezone });
      if (rule.caps.perMonth && !(await repo.takeSlot(`${rule.code}|${memberId}|${local.toFormat('yyyy-MM')}`, rule.caps.perMonth, eventScope, clock.now(), retry))) {
        return 'the monthly cap of this rule is reached';
      }
      if (rule.caps.perDay && !(await repo.takeSlot(`${rule.code}|${memberId}|${local.toISODate()}`, rule.caps.perDay, eventScope, clock.now(), retry))) {
        return 'the daily cap of this rule is reached';
      }
      return undefined;
    },
  };
}
export type RulesService = ReturnType<typeof rulesService>;
