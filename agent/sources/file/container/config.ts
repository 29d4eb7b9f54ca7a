import { z } from 'zod';

/**
 * How the lines of a file are wrapped by a container runtime (`sources.<id>.format`).
 * - `none`: plain text; every line is an event.
 * - `cri`: containerd / CRI-O files under /var/log/pods (`<time> <stream> <P|F> <content>`).
 * - `docker`: Docker's json-file driver (`{"log":"…\n","stream":"…","time":"…"}`).
 * - `auto`: decided per line, so one source can read both kinds of node: a line
 *   starting with `{` is read as Docker json-file, any other line as CRI.
 */
export const containerFormatSchema = z.enum(['none', 'cri', 'docker', 'auto']).default('none');

export type ContainerFormat = z.output<typeof containerFormatSchema>;
