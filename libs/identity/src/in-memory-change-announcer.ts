import { ChangeAnnouncer } from './change-announcer';

/** Counts the "everything changed" announcements. */
export class RecordingAnnouncer extends ChangeAnnouncer {
  announcements = 0;
  announceEverythingChanged(): Promise<void> {
    this.announcements++;
    return Promise.resolve();
  }
}
