import { z } from 'zod';
import { defineRoute, type Route } from '../../platform/http/route.js';
import { myTaskView, taskBody, taskParams, taskView } from './tasks.schemas.js';
import { toTaskView, type TasksService } from './tasks.service.js';

export function tasksRoutes(tasks: TasksService): Route[] {
  return [
    defineRoute({
      method: 'put', path: '/v1/admin/tasks/:code', tag: 'tasks', auth: ['ops'],
      summary: 'Create or replace a task (audited); a repeatable task needs a calendar window, and a task must pay something',
      request: { params: taskParams, body: taskBody },
      responses: { 200: { description: 'replaced', schema: z.object({ task: taskView }) }, 201: { description: 'created', schema: z.object({ task: taskView }) } },
      handler: async ({ params, body, caller, requestId }) => {
        const { task, created } = await tasks.putTask(caller, params.code, body, requestId);
        return { status: created ? 201 : 200, body: { task: toTaskView(task) } };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/tasks', tag: 'tasks', auth: ['ops'],
      summary: 'Every task',
      responses: { 200: { description: 'the tasks', schema: z.object({ items: z.array(taskView) }) } },
      handler: async () => ({ status: 200, body: { items: (await tasks.listTasks()).map(toTaskView) } }),
    }),
    defineRoute({
      method: 'get', path: '/v1/admin/tasks/:code', tag: 'tasks', auth: ['ops'],
      summary: 'One task',
      request: { params: taskParams },
      responses: { 200: { description: 'the task', schema: z.object({ task: taskView }) } },
      errors: [404],
      handler: async ({ params }) => ({ status: 200, body: { task: toTaskView(await tasks.getTask(params.code)) } }),
    }),
    defineRoute({
      method: 'delete', path: '/v1/admin/tasks/:code', tag: 'tasks', auth: ['ops'],
      summary: 'Delete a task (audited); progress and badges already awarded stay',
      request: { params: taskParams },
      responses: { 204: { description: 'deleted' } },
      errors: [404],
      handler: async ({ params, caller, requestId }) => {
        await tasks.deleteTask(caller, params.code, requestId);
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'get', path: '/v1/me/tasks', tag: 'tasks', auth: ['member'],
      summary: 'Every active task with the calling member’s progress, deadline and reward',
      responses: { 200: { description: 'the tasks', schema: z.object({ items: z.array(myTaskView) }) } },
      errors: [404],
      handler: async ({ caller }) => ({ status: 200, body: { items: await tasks.listMemberTasks(caller.sub) } }),
    }),
  ];
}
