import { postJson, refusalText, SignedOut, errorText } from './api.js';
import { $, esc } from './dom.js';

/** One field of an action dialog. */
interface Field {
  readonly name: string;
  readonly label: string;
  readonly kind: 'text' | 'textarea' | 'duration';
  readonly value?: string;
  /** For durations: the choices in seconds. */
  readonly choices?: readonly number[];
}

export interface ActionSpec {
  readonly title: string;
  /** What the action is about, shown under the title. */
  readonly subject: string;
  readonly url: string;
  readonly fields: readonly Field[];
  /** The JSON body from the fields' values. */
  readonly body: (values: Readonly<Record<string, string>>) => unknown;
  /** Said on the page once the server took it. */
  readonly done: string;
}

const DURATION_TEXT = (s: number): string => (s < 3600 ? `${s / 60} 分钟 min` : s < 86_400 ? `${s / 3600} 小时 h` : `${s / 86_400} 天 d`);

/**
 * The one dialog every action goes through: it asks what the server needs, sends it as the signed-in user, and
 * stays open showing the server's refusal in words until the operator cancels or the server takes it.
 */
export class ActionDialog {
  private readonly dialog = $<HTMLDialogElement>('action-dialog');
  private spec: ActionSpec | null = null;

  constructor(private readonly report: (text: string) => void) {
    $('action-cancel').addEventListener('click', () => this.dialog.close());
    $('action-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.submit();
    });
  }

  /** The same dialog, read-only: a title, what it is about, and an HTML body built from escaped text. */
  show(title: string, subject: string, html: string): void {
    this.spec = null;
    $('action-title').textContent = title;
    $('action-alarm').textContent = subject;
    $('action-error').textContent = '';
    $('action-fields').innerHTML = html;
    $('action-ok').hidden = true;
    this.dialog.showModal();
  }

  open(spec: ActionSpec): void {
    this.spec = spec;
    $('action-ok').hidden = false;
    $('action-title').textContent = spec.title;
    $('action-alarm').textContent = spec.subject;
    $('action-error').textContent = '';
    $('action-fields').innerHTML = spec.fields
      .map((f) => {
        const id = `action-${f.name}`;
        const label = `<label for="${id}">${esc(f.label)}</label>`;
        if (f.kind === 'textarea') return `${label}<textarea id="${id}" name="${f.name}" rows="2" required>${esc(f.value ?? '')}</textarea>`;
        if (f.kind === 'duration') return `${label}<select id="${id}" name="${f.name}">${(f.choices ?? []).map((s) => `<option value="${s}">${esc(DURATION_TEXT(s))}</option>`).join('')}</select>`;
        return `${label}<input id="${id}" name="${f.name}" value="${esc(f.value ?? '')}" required>`;
      })
      .join('');
    $<HTMLButtonElement>('action-ok').disabled = false;
    this.dialog.showModal();
    this.dialog.querySelector<HTMLElement>('textarea, input, select')?.focus();
  }

  private async submit(): Promise<void> {
    const spec = this.spec;
    if (spec === null) return;
    const values: Record<string, string> = {};
    for (const f of spec.fields) {
      const el = document.getElementById(`action-${f.name}`) as HTMLInputElement | null;
      values[f.name] = el?.value.trim() ?? '';
    }
    const empty = spec.fields.find((f) => f.kind !== 'duration' && values[f.name] === '');
    if (empty) {
      $('action-error').textContent = `请填写 Fill in: ${empty.label}`;
      return;
    }
    const ok = $<HTMLButtonElement>('action-ok');
    ok.disabled = true;
    try {
      const answer = await postJson(spec.url, spec.body(values));
      if (answer.ok) {
        this.dialog.close();
        this.report(spec.done);
        return;
      }
      const why = `未完成 not done — ${refusalText(answer.status, answer.body)}`;
      $('action-error').textContent = why;
      this.report(why);
    } catch (err) {
      if (err instanceof SignedOut) {
        this.dialog.close();
        return;
      }
      $('action-error').textContent = `未完成 not done — ${errorText(err)}`;
    } finally {
      ok.disabled = false;
    }
  }

  close(): void {
    if (this.dialog.open) this.dialog.close();
  }
}

export { DURATION_TEXT };
