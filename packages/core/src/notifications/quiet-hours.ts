export interface QuietHours {
  /** Local 'HH:MM'. */
  start: string;
  end: string;
  /** IANA zone the times are in. */
  time_zone: string;
}

const DAY_MINUTES = 24 * 60;
const MINUTE_MS = 60_000;

const minutesOf = (time: string): number => {
  const [hours, minutes] = time.split(':').map(Number);
  return hours! * 60 + minutes!;
};

/** The wall-clock minute of the day at `now` in `timeZone`, as Intl reads the zone's rules. */
function localMinute(now: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part('hour') * 60 + part('minute');
}

/**
 * When quiet hours that hold at `now` end, or undefined outside them. Start to end is a half-open
 * local interval; an end earlier than the start wraps past midnight (22:00 to 07:00). The end is
 * found by counting wall-clock minutes from now, so on the night a clock moves (DST) it is off by
 * the hour moved: a push comes an hour early or late, never lost.
 */
export function quietUntil(now: Date, hours: QuietHours): Date | undefined {
  const start = minutesOf(hours.start);
  const end = minutesOf(hours.end);
  const minute = localMinute(now, hours.time_zone);
  const quiet = start < end ? minute >= start && minute < end : minute >= start || minute < end;
  if (!quiet) return undefined;
  const minutesLeft = (end - minute + DAY_MINUTES) % DAY_MINUTES;
  const startOfMinute = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS;
  return new Date(startOfMinute + minutesLeft * MINUTE_MS);
}
