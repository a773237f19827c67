import type { Connection } from 'mongoose';
import type { Route } from '../../platform/http/route.js';
import { stampCheck } from '../audit/index.js';
import { tasksRepository } from './tasks.model.js';
import { tasksRoutes } from './tasks.routes.js';
import { tasksService, type TasksDeps, type TasksService } from './tasks.service.js';

export type { TasksService } from './tasks.service.js';

/**
 * Tasks and badges (PRODUCT.md §7): ops-defined goals that count events and pay points, growth or a badge once
 * (or once per calendar period), and the member summary's badges.
 */
export function createTasksModule(deps: Omit<TasksDeps, 'repo'> & { db: Connection }): { service: TasksService; routes: Route[]; init: () => Promise<void> } {
  const repo = tasksRepository(deps.db);
  const service = tasksService({ ...deps, repo });
  const stamped = stampCheck(async (code) => repo.get(code));
  deps.audit.check('task.put', stamped);
  deps.audit.check('task.delete', stamped);
  deps.members.addSummaryProvider(async (member) => ({ badges: await service.badgesOf(member.memberId) }));
  return { service, routes: tasksRoutes(service), init: () => repo.init() };
}
