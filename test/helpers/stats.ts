import { expect } from 'vitest';
import { ops, type TestApp } from './app.js';

/** A stats report as ops read it, expecting a 200. */
export async function report(api: TestApp, name: string, query: Record<string, string | number>): Promise<any> {
  const qs = new URLSearchParams(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])));
  const res = await api.request('GET', `/v1/admin/stats/${name}?${qs}`, { token: ops });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** Moves the clock past `day`'s end and the close grace (in the program's zone offset `offsetHours`) and runs the rollup. */
export async function closeThrough(api: TestApp, day: string, offsetHours = 0): Promise<void> {
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000 - offsetHours * 3_600_000 + 2 * 3_600_000);
  if (api.clock.now().getTime() < next.getTime()) api.clock.set(next);
  const result = await api.built.rollup();
  expect(result.closed).toContain(day);
}

/** The figures of one interval of a report, by its first day. */
export const on = (body: any, start: string): any => body.intervals.find((i: any) => i.start === start);
