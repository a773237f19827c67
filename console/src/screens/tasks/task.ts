import { codedApi } from '../../components/coded-resource';
import { defined, numberOrText, parseJson } from '../../components/editing';

export type TaskWindow = { type: 'lifetime' } | { type: 'from-registration'; days: number } | { type: 'calendar'; period: 'day' | 'week' | 'month' | 'year' };
/** A task as GET /v1/admin/tasks answers it. */
export type TaskView = {
  code: string;
  name: string;
  description?: string;
  active: boolean;
  eventType: string;
  condition?: Record<string, unknown>;
  target: number;
  window: TaskWindow;
  repeatable: boolean;
  reward: { points?: number; growth?: number; badge?: { code: string; name: string } };
  updatedAt: string;
};

/** GET /v1/admin/tasks lists every task (no cursor); GET and PUT /v1/admin/tasks/:code read and save one. */
export const tasks = codedApi<TaskView>('/v1/admin/tasks', 'task');

export type TaskDraft = {
  code: string;
  name: string;
  description: string;
  eventType: string;
  target: string;
  active: boolean;
  repeatable: boolean;
  windowType: TaskWindow['type'];
  days: string;
  period: string;
  points: string;
  growth: string;
  badgeCode: string;
  badgeName: string;
  condition: string;
};

export const draftOf = (t: TaskView | undefined): TaskDraft => ({
  code: t?.code ?? '',
  name: t?.name ?? '',
  description: t?.description ?? '',
  eventType: t?.eventType ?? 'order.paid',
  target: String(t?.target ?? 1),
  active: t?.active ?? true,
  repeatable: t?.repeatable ?? false,
  windowType: t?.window.type ?? 'lifetime',
  days: t?.window.type === 'from-registration' ? String(t.window.days) : '7',
  period: t?.window.type === 'calendar' ? t.window.period : 'month',
  points: t?.reward.points === undefined ? '' : String(t.reward.points),
  growth: t?.reward.growth === undefined ? '' : String(t.reward.growth),
  badgeCode: t?.reward.badge?.code ?? '',
  badgeName: t?.reward.badge?.name ?? '',
  condition: t?.condition ? JSON.stringify(t.condition) : '',
});

/** PUT /v1/admin/tasks/:code's body; fails only when the condition is not JSON. */
export function bodyOf(d: TaskDraft): { ok: true; body: Record<string, unknown> } | { ok: false; error: string } {
  const condition = parseJson(d.condition);
  if (!condition.ok) return { ok: false, error: condition.error };
  const window =
    d.windowType === 'from-registration' ? { type: d.windowType, days: numberOrText(d.days) ?? '' } : d.windowType === 'calendar' ? { type: d.windowType, period: d.period } : { type: d.windowType };
  const badge = d.badgeCode.trim() || d.badgeName.trim() ? { code: d.badgeCode.trim(), name: d.badgeName.trim() } : undefined;
  return {
    ok: true,
    body: defined({
      name: d.name,
      description: d.description.trim() || undefined,
      active: d.active,
      eventType: d.eventType.trim(),
      condition: condition.value,
      target: numberOrText(d.target) ?? '',
      window,
      repeatable: d.repeatable,
      reward: defined({ points: numberOrText(d.points), growth: numberOrText(d.growth), badge }),
    }),
  };
}
