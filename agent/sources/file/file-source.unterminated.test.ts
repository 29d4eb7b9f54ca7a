import { appendFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventId } from '../../../shared/record/event-id.js';
import { sampleValue } from '../../../shared/telemetry/test-metrics.js';
import { UNTERMINATED_ATTRIBUTE } from './line-batcher.js';
import { AGENT, FileSourceFixture, idOf, waitFor } from './test-support/file-source-harness.js';

/**
 * A last line without a newline: held while its file may still grow, emitted
 * (flagged and counted) once the file is finished, never dropped silently.
 */
describe('FileSource: a last line without a newline', () => {
  let fixture: FileSourceFixture;

  beforeEach(async () => {
    fixture = await FileSourceFixture.create();
  });

  afterEach(async () => {
    const { problems } = fixture.consumer;
    await fixture.close();
    expect(problems).toEqual([]);
  });

  const truncatedCount = () => sampleValue(fixture.telemetry.families, 'tributary_component_truncated_events_total');

  it('13.23: is emitted flagged and counted once its file is deleted and rotate_wait passed', async () => {
    const path = join(fixture.logs, 'app.log');
    const content = 'complete line\nthe writer died here';
    await writeFile(path, content);
    const fileId = await idOf(path);
    const source = await fixture.start();
    await waitFor('the complete line', () => fixture.consumer.events.length === 1);
    expect(await truncatedCount()).toBe(0);

    await unlink(path);
    await waitFor('the unterminated line', () => fixture.consumer.events.length === 2, 3_000);
    await waitFor('the deleted file to be finished', () => !source.isActive(fileId));

    const last = fixture.consumer.events[1];
    expect(last).toMatchObject({
      id: eventId(AGENT, fileId, 14),
      body: 'the writer died here',
      truncated: true,
      attributes: { [UNTERMINATED_ATTRIBUTE]: 'true' },
      source: { file_id: fileId, offset: 14, path },
    });
    expect(fixture.consumer.events[0]).not.toHaveProperty('attributes');
    expect(await truncatedCount()).toBe(1);
    expect(fixture.store.get(fileId)?.offset).toBe(Buffer.byteLength(content));
  });

  it('13.23: is emitted once a renamed file (outside the globs) stops growing, and only then', async () => {
    const path = join(fixture.logs, 'app.log');
    await writeFile(path, 'first\nhalf a li');
    const fileId = await idOf(path);
    const source = await fixture.start();
    await waitFor('the first line', () => fixture.consumer.events.length === 1);

    await rename(path, join(fixture.logs, 'app.log.old'));
    // The writer still holds the renamed file and finishes its line late: that completes it, no flag.
    await appendFile(join(fixture.logs, 'app.log.old'), 'ne\nand a partial');
    await writeFile(path, 'new generation\n');
    await waitFor('the completed and the unterminated lines', () => fixture.consumer.eventsOf(fileId).length === 3, 3_000);
    await waitFor('the rotated file to be finished', () => !source.isActive(fileId));

    const old = fixture.consumer.eventsOf(fileId);
    expect(old.map((event) => [event.body, event.source.offset, event.truncated, event.attributes])).toEqual([
      ['first', 0, undefined, undefined],
      ['half a line', 6, undefined, undefined],
      ['and a partial', 18, true, { [UNTERMINATED_ATTRIBUTE]: 'true' }],
    ]);
    expect(await truncatedCount()).toBe(1);
  });

  it('13.23: with the CRI format, the record holding the unterminated bytes carries the mark', async () => {
    const path = join(fixture.logs, 'app.log');
    await writeFile(path, '2026-12-07T06:00:00.000000000Z stdout F whole\n2026-12-07T06:00:01.000000000Z stderr F cut sh');
    const fileId = await idOf(path);
    await fixture.start({ format: 'cri' });
    await waitFor('the whole line', () => fixture.consumer.events.length === 1);
    await unlink(path);
    await waitFor('the unterminated line', () => fixture.consumer.events.length === 2, 3_000);
    expect(fixture.consumer.eventsOf(fileId)[1]).toMatchObject({
      body: 'cut sh',
      attributes: { 'log.iostream': 'stderr', [UNTERMINATED_ATTRIBUTE]: 'true' },
    });
  });
});
