import type { Alarm } from '#libs/contracts/index.js';
import { $ } from './dom.js';

/**
 * The visible and audible cue of a new critical alarm. The sound is a short two-tone beep from the browser's Web
 * Audio (no file to fetch); the operator can mute it, and the choice is kept in this browser.
 */
export class AlarmCue {
  private audio: AudioContext | null = null;
  private muted = localStorage.getItem('sentinel.muted') === '1';
  private count = 0;
  private hideTimer = 0;

  constructor() {
    const button = $('mute');
    this.showMuted(button);
    button.addEventListener('click', () => {
      this.muted = !this.muted;
      localStorage.setItem('sentinel.muted', this.muted ? '1' : '0');
      this.showMuted(button);
      this.unlock();
    });
  }

  /** Browsers start audio only after a user gesture: called from clicks (sign-in, mute) to have it ready. */
  unlock(): void {
    try {
      this.audio ??= new AudioContext();
      if (this.audio.state === 'suspended') void this.audio.resume().catch(() => undefined);
    } catch {
      this.audio = null;
    }
  }

  raise(alarm: Alarm, describe: (a: Alarm) => string): void {
    this.count++;
    const banner = $('cue');
    banner.textContent = `⚠ 新的紧急报警 New critical alarm: ${describe(alarm)}`;
    banner.hidden = false;
    document.body.dataset.cues = String(this.count);
    window.clearTimeout(this.hideTimer);
    this.hideTimer = window.setTimeout(() => (banner.hidden = true), 15_000);
    document.body.dataset.sound = this.beep();
  }

  reset(): void {
    $('cue').hidden = true;
    window.clearTimeout(this.hideTimer);
  }

  /** What became of the sound: played, muted, or blocked by the browser. */
  private beep(): 'played' | 'muted' | 'blocked' {
    if (this.muted) return 'muted';
    this.unlock();
    const ctx = this.audio;
    if (ctx === null || ctx.state !== 'running') return 'blocked';
    const gain = ctx.createGain();
    gain.gain.value = 0.2;
    gain.connect(ctx.destination);
    [880, 660, 880].forEach((hz, i) => {
      const osc = ctx.createOscillator();
      osc.frequency.value = hz;
      osc.connect(gain);
      osc.start(ctx.currentTime + i * 0.22);
      osc.stop(ctx.currentTime + i * 0.22 + 0.18);
    });
    return 'played';
  }

  private showMuted(button: HTMLElement): void {
    button.setAttribute('aria-pressed', String(this.muted));
    button.textContent = this.muted ? '🔕 声音关 Sound off' : '🔔 声音开 Sound on';
  }
}
