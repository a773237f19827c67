import { useState } from 'preact/hooks';
import { CodedList, CodedResourceScreen } from '../components/coded-resource';
import { ConfirmStep, useIntent } from '../components/confirm';
import { Refusal } from '../components/editing';
import { Time } from '../components/ui';
import { call } from '../lib/api';
import { common } from '../lib/common.messages';
import { useLoad } from '../lib/hooks';
import { useT } from '../lib/i18n';
import { m } from './tasks/messages';
import { tasks, type TaskView } from './tasks/task';
import { TaskEditor } from './tasks/task-editor';

/**
 * Tasks: `#/tasks` lists them (delete after a confirmation), `#/tasks/new` and `#/tasks/<code>` edit one.
 * GET /v1/admin/tasks answers every task at once (no cursor), so the list has no "load more".
 */
export function TasksScreen({ args }: { args: string[] }) {
  return <CodedResourceScreen args={args} route="tasks" words={m} load={tasks.load} List={TaskList} Editor={TaskEditor} />;
}

function TaskList() {
  const t = useT(m);
  const c = useT(common);
  const list = useLoad(tasks.list, []);
  const [deleted, setDeleted] = useState<string>();
  const remove = useIntent(
    (code: string) => call<void>('DELETE', `/v1/admin/tasks/${encodeURIComponent(code)}`).then(() => code),
    (code) => {
      setDeleted(code);
      list.reload();
    },
    { closeOnRefusal: true },
  );
  const window = (w: TaskView['window']) =>
    w.type === 'lifetime' ? t('lifetime') : w.type === 'from-registration' ? t('fromRegistration', { days: w.days }) : t('calendar', { period: t(w.period) });
  const reward = (r: TaskView['reward']) =>
    [r.points ? t('points', { n: r.points }) : '', r.growth ? t('growth', { n: r.growth }) : '', r.badge ? t('badge', { name: r.badge.name }) : ''].filter(Boolean).join(', ');
  return (
    <CodedList
      route="tasks"
      words={m}
      newLabel={t('newTask')}
      emptyText={t('noTasks')}
      list={list}
      before={
        <>
          {deleted && (
            <p class="state ok" role="status">
              {t('deleted', { code: deleted })}
            </p>
          )}
          <Refusal error={remove.error} />
        </>
      }
      head={
        <>
          <th scope="col">{t('name')}</th>
          <th scope="col">{t('eventType')}</th>
          <th scope="col" class="num">{t('target')}</th>
          <th scope="col">{t('window')}</th>
          <th scope="col">{t('reward')}</th>
          <th scope="col">{t('active')}</th>
          <th scope="col">{t('updated')}</th>
          <th scope="col">{t('actions')}</th>
        </>
      }
      row={(task) => (
        <>
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
        </>
      )}
    >
      <ConfirmStep intent={remove} label={t('delete')} danger>
        {t('confirmDelete', { code: remove.asked ?? '' })}
      </ConfirmStep>
    </CodedList>
  );
}
