import { useState } from 'preact/hooks';
import { ConfirmStep, useIntent } from '../components/confirm';
import { Refusal } from '../components/editing';
import { Empty, ErrorBox, Loading, Section, Time } from '../components/ui';
import { call } from '../lib/api';
import { common } from '../lib/common.messages';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { href } from '../lib/router';
import { m } from './tasks/messages';
import type { TaskView } from './tasks/task';
import { TaskEditor } from './tasks/task-editor';

/**
 * Tasks: `#/tasks` lists them (delete after a confirmation), `#/tasks/new` and `#/tasks/<code>` edit one.
 * GET /v1/admin/tasks answers every task at once (no cursor), so the list has no "load more".
 */
export function TasksScreen({ args }: { args: string[] }) {
  const t = useT(m);
  const [code] = args;
  return (
    <>
      <h1>{t('title')}</h1>
      {code === undefined ? <TaskList /> : code === 'new' ? <NewTask /> : <EditTask code={code} />}
    </>
  );
}

function Back() {
  const t = useT(m);
  return (
    <p>
      <a href={href('tasks')}>← {t('back')}</a>
    </p>
  );
}

/** Once saved, the new task stays on screen as an edit of it, and the address becomes the task's own. */
function NewTask() {
  const [saved, setSaved] = useState<TaskView>();
  const created = (task: TaskView) => {
    history.replaceState(null, '', href('tasks', task.code));
    setSaved(task);
  };
  return (
    <>
      <Back />
      {saved ? <TaskEditor key={saved.code} task={saved} justSaved onSaved={() => undefined} /> : <TaskEditor task={undefined} onSaved={created} />}
    </>
  );
}

function EditTask({ code }: { code: string }) {
  const task = useLoad(() => call<{ task: TaskView }>('GET', `/v1/admin/tasks/${encodeURIComponent(code)}`).then((r) => r.task), [code]);
  return (
    <>
      <Back />
      {task.state === 'loading' && <Loading />}
      {task.state === 'error' && <ErrorBox error={task.error} retry={task.reload} />}
      {task.state === 'ready' && <TaskEditor key={task.data.code} task={task.data} onSaved={() => undefined} />}
    </>
  );
}

function TaskList() {
  const t = useT(m);
  const c = useT(common);
  const tasks = useLoad(() => call<{ items: TaskView[] }>('GET', '/v1/admin/tasks').then((r) => r.items), []);
  const [deleted, setDeleted] = useState<string>();
  const remove = useIntent(
    (code: string) => call<void>('DELETE', `/v1/admin/tasks/${encodeURIComponent(code)}`).then(() => code),
    (code) => {
      setDeleted(code);
      tasks.reload();
    },
    { closeOnRefusal: true },
  );
  const window = (w: TaskView['window']) =>
    w.type === 'lifetime' ? t('lifetime') : w.type === 'from-registration' ? t('fromRegistration', { days: w.days }) : t('calendar', { period: t(w.period) });
  const reward = (r: TaskView['reward']) =>
    [r.points ? t('points', { n: r.points }) : '', r.growth ? t('growth', { n: r.growth }) : '', r.badge ? t('badge', { name: r.badge.name }) : ''].filter(Boolean).join(', ');
  return (
    <Section
      title={t('list')}
      actions={
        <a class="button" href={href('tasks', 'new')}>
          {t('newTask')}
        </a>
      }
    >
      {deleted && (
        <p class="state ok" role="status">
          {t('deleted', { code: deleted })}
        </p>
      )}
      <Refusal error={remove.error} />
      {tasks.state === 'loading' && <Loading />}
      {tasks.state === 'error' && <ErrorBox error={tasks.error} retry={tasks.reload} />}
      {tasks.state === 'ready' && tasks.data.length === 0 && <Empty>{t('noTasks')}</Empty>}
      {tasks.state === 'ready' && tasks.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('code')}</th>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('eventType')}</th>
              <th scope="col" class="num">{t('target')}</th>
              <th scope="col">{t('window')}</th>
              <th scope="col">{t('reward')}</th>
              <th scope="col">{t('active')}</th>
              <th scope="col">{t('updated')}</th>
              <th scope="col">{t('actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tasks.data.map((task) => (
              <tr key={task.code}>
                <td>
                  <a href={href('tasks', task.code)}>{task.code}</a>
                </td>
                <td>{task.name}</td>
                <td>{task.eventType}</td>
                <td class="num">{task.target}</td>
                <td>{window(task.window)}</td>
                <td>{reward(task.reward)}</td>
                <td>{task.active ? c('yes') : c('no')}</td>
                <td>
                  <Time iso={task.updatedAt} />
                </td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    aria-label={t('deleteTask', { code: task.code })}
                    onClick={() => {
                      setDeleted(undefined);
                      remove.ask(task.code);
                    }}
                  >
                    {t('delete')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmStep intent={remove} label={t('delete')} danger>
        {t('confirmDelete', { code: remove.asked ?? '' })}
      </ConfirmStep>
    </Section>
  );
}
