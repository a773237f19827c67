import type { ComponentChildren, ComponentType } from 'preact';
import { useState } from 'preact/hooks';
import { call } from '../lib/api';
import { useLoad, type Loaded } from '../lib/hooks';
import { useT, type Bundle } from '../lib/i18n';
import { href } from '../lib/router';
import { ConfirmStep, useIntent, type Intent } from './confirm';
import { Refusal } from './editing';
import { Empty, ErrorBox, Field, Loading, Section } from './ui';

/**
 * A resource the program names by a code (earning rules, tasks): the API lists them at `path`, answers one at
 * `path/<code>` as `{ [field]: item }` and saves one by PUT there; the console lists them at `#/<route>`, creates one
 * at `#/<route>/new` and edits one at `#/<route>/<code>`.
 */
export type Coded = { code: string };

/** The words these screens share; each screen's own messages have them among theirs. */
export type CodedWords = Bundle<'title' | 'list' | 'back' | 'code' | 'codeHint' | 'newTitle' | 'editTitle' | 'confirmSave' | 'saved'>;

/** What the editor of a coded resource takes: the saved item (none for a new one) and what to do once it is saved. */
export type EditorProps<T extends Coded> = { item: T | undefined; justSaved?: boolean; onSaved: (item: T) => void };

/**
 * The API of a coded resource.
 *
 *     const rules = codedApi<RuleView>('/v1/admin/earning-rules', 'rule');
 *     await rules.put('per-yuan', body);
 */
export function codedApi<T extends Coded>(path: string, field: string) {
  const one = (code: string) => `${path}/${encodeURIComponent(code)}`;
  return {
    list: () => call<{ items: T[] }>('GET', path).then((r) => r.items),
    load: (code: string) => call<Record<string, T>>('GET', one(code)).then((r) => r[field]!),
    put: (code: string, body: Record<string, unknown>) => call<Record<string, T>>('PUT', one(code), { body }).then((r) => r[field]!),
  };
}

type ScreenProps<T extends Coded> = {
  route: string;
  words: CodedWords;
  load: (code: string) => Promise<T>;
  Editor: ComponentType<EditorProps<T>>;
};

/** The screen of a coded resource: its title, then the list, a new one or one by its code, as the route says. */
export function CodedResourceScreen<T extends Coded>({ args, List, ...screen }: ScreenProps<T> & { args: string[]; List: ComponentType }) {
  const t = useT(screen.words);
  const [code] = args;
  return (
    <>
      <h1>{t('title')}</h1>
      {code === undefined ? <List /> : code === 'new' ? <NewItem {...screen} /> : <EditItem {...screen} code={code} />}
    </>
  );
}

/**
 * The list of a coded resource, every item at once (these routes have no cursor): a link to a new one, then a table
 * whose first column links each code to its editor; `head` and `row` give the other columns, `before` what the list
 * says above the table and `children` what follows it.
 */
export function CodedList<T extends Coded>({ route, words, newLabel, emptyText, list, head, row, before, children }: {
  route: string;
  words: CodedWords;
  newLabel: string;
  emptyText: string;
  list: Loaded<T[]> & { reload: () => void };
  head: ComponentChildren;
  row: (item: T) => ComponentChildren;
  before?: ComponentChildren;
  children?: ComponentChildren;
}) {
  const t = useT(words);
  return (
    <Section
      title={t('list')}
      actions={
        <a class="button" href={href(route, 'new')}>
          {newLabel}
        </a>
      }
    >
      {before}
      {list.state === 'loading' && <Loading />}
      {list.state === 'error' && <ErrorBox error={list.error} retry={list.reload} />}
      {list.state === 'ready' && list.data.length === 0 && <Empty>{emptyText}</Empty>}
      {list.state === 'ready' && list.data.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('code')}</th>
              {head}
            </tr>
          </thead>
          <tbody>
            {list.data.map((item) => (
              <tr key={item.code}>
                <td>
                  <a href={href(route, item.code)}>{item.code}</a>
                </td>
                {row(item)}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {children}
    </Section>
  );
}

function Back({ route, words }: { route: string; words: CodedWords }) {
  const t = useT(words);
  return (
    <p>
      <a href={href(route)}>← {t('back')}</a>
    </p>
  );
}

/** Once saved, the new item stays on screen as an edit of it, and the address becomes the item's own (no reload). */
function NewItem<T extends Coded>({ route, words, Editor }: ScreenProps<T>) {
  const [saved, setSaved] = useState<T>();
  const created = (item: T) => {
    history.replaceState(null, '', href(route, item.code));
    setSaved(item);
  };
  return (
    <>
      <Back route={route} words={words} />
      {saved ? <Editor key={saved.code} item={saved} justSaved onSaved={() => undefined} /> : <Editor item={undefined} onSaved={created} />}
    </>
  );
}

function EditItem<T extends Coded>({ route, words, load, Editor, code }: ScreenProps<T> & { code: string }) {
  const item = useLoad(() => load(code), [code]);
  return (
    <>
      <Back route={route} words={words} />
      {item.state === 'loading' && <Loading />}
      {item.state === 'error' && <ErrorBox error={item.error} retry={item.reload} />}
      {item.state === 'ready' && <Editor key={item.data.code} item={item.data} onSaved={() => undefined} />}
    </>
  );
}

type KeysOf<D, V> = { [K in keyof D]: D[K] extends V ? K : never }[keyof D];

/**
 * The state of a coded resource's editor: the draft as typed (`set` changes one field), its code, the confirmed save
 * (PUT of the code and body asked), the code last saved, and inputs for the draft's text and yes/no fields.
 */
export function useCodedEditor<T extends Coded, D extends Coded>({ item, justSaved, onSaved, draftOf, put }: EditorProps<T> & {
  draftOf: (item: T | undefined) => D;
  put: (code: string, body: Record<string, unknown>) => Promise<T>;
}) {
  const [draft, setDraft] = useState<D>(() => draftOf(item));
  const [savedCode, setSavedCode] = useState<string | undefined>(justSaved ? item?.code : undefined);
  const set = <K extends keyof D>(key: K, value: D[K]) => {
    setDraft({ ...draft, [key]: value });
    setSavedCode(undefined);
  };
  const save = useIntent(
    (asked: { code: string; body: Record<string, unknown> }) => put(asked.code, asked.body),
    (saved) => {
      setSavedCode(saved.code);
      onSaved(saved);
    },
    // A refusal names fields of the draft: the step closes and the refusal is shown beside the draft.
    { closeOnRefusal: true },
  );
  const text = (key: KeysOf<D, string>, label: string, hint?: string) => (
    <Field label={label} hint={hint}>
      <input type="text" value={draft[key] as string} onInput={(e) => set(key, e.currentTarget.value as D[typeof key])} />
    </Field>
  );
  const check = (key: KeysOf<D, boolean>, label: string) => (
    <label class="field check">
      <span>
        <input type="checkbox" checked={draft[key] as boolean} onChange={(e) => set(key, e.currentTarget.checked as D[typeof key])} /> {label}
      </span>
    </label>
  );
  return { item, draft, set, code: draft.code.trim(), save, savedCode, text, check };
}

/** A coded resource's editor: its fields, then the service's refusal, Save (confirmed first) and what was saved. */
export function CodedEditor({ editor, words, body, saveLabel, children }: {
  editor: { item: Coded | undefined; code: string; save: Intent<{ code: string; body: Record<string, unknown> }>; savedCode: string | undefined };
  words: CodedWords;
  /** The body to PUT, none while the draft cannot make one. */
  body: Record<string, unknown> | undefined;
  saveLabel: string;
  children: ComponentChildren;
}) {
  const t = useT(words);
  const { item, code, save, savedCode } = editor;
  return (
    <Section title={item ? t('editTitle', { code: item.code }) : t('newTitle')}>
      {children}
      <Refusal error={save.error} />
      <div class="row program-actions">
        <button type="button" class="primary" disabled={!body || !code || save.busy} onClick={() => body && save.ask({ code, body })}>
          {saveLabel}
        </button>
        {savedCode && (
          <span class="state ok" role="status">
            {t('saved', { code: savedCode })}
          </span>
        )}
      </div>
      <ConfirmStep intent={save} label={saveLabel}>
        {t('confirmSave', { code: save.asked?.code ?? code })}
      </ConfirmStep>
    </Section>
  );
}
