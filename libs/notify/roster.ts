import type { Recipient, Roster } from '#libs/contracts/index.js';

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** The local weekday (1 Monday … 7 Sunday) and minute of the day at `now` in `timeZone`. */
export function localTime(now: number, timeZone: string): { readonly weekday: number; readonly minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(now));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(get('weekday')) + 1;
  return { weekday, minute: Number(get('hour')) * 60 + Number(get('minute')) };
}

/**
 * Who is on duty at `now`: every shift whose local span holds that minute (a shift `to` before `from` runs past
 * midnight and counts for the day it started). At a handover the shift starting wins over the one ending (`to` is
 * exclusive). Nobody on duty: the roster's first shift's person, so that an alarm never goes to no one.
 */
export function onDuty(roster: Roster, now: number): Recipient[] {
  const { weekday, minute } = localTime(now, roster.timeZone);
  const yesterday = weekday === 1 ? 7 : weekday - 1;
  const found: Recipient[] = [];
  for (const s of roster.shifts) {
    const from = minutes(s.from);
    const to = minutes(s.to);
    const on = (day: number): boolean => s.days === null || s.days.includes(day);
    const overnight = to <= from;
    const today = on(weekday) && minute >= from && (overnight || minute < to);
    const fromYesterday = overnight && on(yesterday) && minute < to;
    if (today || fromYesterday) found.push(s.recipient);
  }
  const first = roster.shifts[0]?.recipient;
  return found.length > 0 ? found : first ? [first] : [];
}
