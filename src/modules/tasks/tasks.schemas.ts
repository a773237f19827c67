import { z } from 'zod';
import '../../platform/openapi.js';
import { eventTypeSchema } from '../rules/index.js';

const codePattern = /^[a-z0-9][a-z0-9_-]{1,47}$/;
const codeMessage = 'lowercase letters, digits, _ and -, 2–48 characters';
export const taskCodeSchema = z.string().regex(codePattern, codeMessage);
const propertyName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, 'a property name');
const MAX_REWARD = 1_000_000;

/** One test on an event property; every operator given must hold. */
export const conditionSchema = z
  .object({
    property: propertyName,
    equals: z.union([z.string().max(256), z.number().finite(), z.boolean()]).optional(),
    in: z.array(z.union([z.string().max(256), z.number().finite()])).min(1).max(100).optional(),
    min: z.number().finite().optional(),
    max: z.number().finite().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.equals === undefined && c.in === undefined && c.min === undefined && c.max === undefined) {
      ctx.addIssue({ code: 'custom', path: ['property'], message: 'a condition needs equals, in, min or max' });
    }
    if (c.min !== undefined && c.max !== undefined && c.min > c.max) {
      ctx.addIssue({ code: 'custom', path: ['max'], message: 'max is below min: nothing can match' });
    }
  });
export type Condition = z.infer<typeof conditionSchema>;

/** Which events count together: all of them, those in the member's first days, or those of one calendar period. */
export const windowSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('lifetime') }).strict(),
  z.object({ type: z.literal('from-registration'), days: z.number().int().min(1).max(366) }).strict(),
  z.object({ type: z.literal('calendar'), period: z.enum(['day', 'week', 'month', 'year']) }).strict(),
]);
export type TaskWindow = z.infer<typeof windowSchema>;

export const rewardSchema = z
  .object({
    points: z.number().int().min(0).max(MAX_REWARD).optional(),
    growth: z.number().int().min(0).max(MAX_REWARD).optional(),
    badge: z.object({ code: z.string().regex(codePattern, codeMessage), name: z.string().trim().min(1).max(100) }).strict().optional(),
  })
  .strict();

const taskFields = z.object({
  name: z.string().trim().min(1).max(100),
  description: z.string().max(500).optional(),
  active: z.boolean().default(true),
  eventType: eventTypeSchema,
  condition: conditionSchema.optional(),
  /** How many matching events complete the task. */
  target: z.number().int().min(1).max(1000),
  window: windowSchema,
  /** Pays once per calendar period instead of once ever (calendar windows only). */
  repeatable: z.boolean().default(false),
  reward: rewardSchema,
});

export const taskBody = taskFields
  .strict()
  .superRefine((t, ctx) => {
    if (t.repeatable && t.window.type !== 'calendar') {
      ctx.addIssue({ code: 'custom', path: ['repeatable'], message: 'only a task with a calendar window can repeat' });
    }
    if (!(t.reward.points ?? 0) && !(t.reward.growth ?? 0) && !t.reward.badge) {
      ctx.addIssue({ code: 'custom', path: ['reward'], message: 'a task pays points, growth or a badge' });
    }
  })
  .meta({ id: 'Task' });
export type TaskInput = z.infer<typeof taskBody>;

export const taskParams = z.object({ code: taskCodeSchema }).strict();

export const taskView = taskFields
  .extend({ code: z.string(), createdAt: z.iso.datetime(), updatedAt: z.iso.datetime() })
  .meta({ id: 'TaskView' });

const rewardView = z.object({
  points: z.number().int(),
  growth: z.number().int(),
  badge: z.object({ code: z.string(), name: z.string() }).nullable(),
});

export const myTaskView = z
  .object({
    code: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    eventType: z.string(),
    target: z.number().int(),
    /** Matching events counted in the current period (or ever); the target once completed. */
    progress: z.number().int(),
    /** Paid for the current period (repeatable tasks) or ever. */
    completed: z.boolean(),
    /** When the window closes: registration + days, or the end of the current calendar period; null for lifetime tasks. */
    deadline: z.iso.datetime().nullable(),
    /** The deadline passed before the task was completed. */
    expired: z.boolean(),
    repeatable: z.boolean(),
    reward: rewardView,
  })
  .meta({ id: 'MemberTask' });
export type MyTaskView = z.infer<typeof myTaskView>;
