import type { Logger } from '../../common/logger.ts';
import { SerialError } from '../serial/errors.ts';
import type { PortSession, SerialTransport } from '../serial/transport.ts';
import { ShtrihDeviceError, ShtrihLinkError } from './errors.ts';
import { ACK, encodeFrame, ENQ, lrc, NAK, PASSWORD_RANGE, parseAnswer, STX, type AnswerMessage } from './frame.ts';

/**
 * One command's conversation with the register (rosix-ru/shtrihm-fr
 * shtrihmfr/kkt.py, BaseKKT docstring; the protocol note §6.1):
 *
 *   host ENQ → NAK (idle: send the command) | ACK (an answer is pending: read it) | silence (no link)
 *   host STX LEN CMD params LRC → device ACK (taken) | NAK (damaged: send again) | silence (ask with ENQ)
 *   device STX LEN CMD ERR data LRC → host ACK | NAK (damaged: the device waits for ENQ and sends it again)
 *
 * The command is sent only after an ENQ answered NAK, so a command is never
 * sent twice while the register holds an answer for it. An answer found
 * pending before our command was sent is a previous conversation's
 * (a crashed process): it is acknowledged and dropped. If the register took
 * the frame (ACK) and later says it has nothing pending, the answer is lost:
 * a read-only command is sent again, any other fails with
 * `no_answer` and `delivered: true` — the caller asks the device what happened.
 * Every retry is bounded; time-outs are per byte and per answer.
 */

export interface LinkTimings {
  /** between the bytes of one answer (the protocol's default is 50 ms) */
  byteTimeoutMs: number;
  /** for the reply to ENQ and the ACK of a frame */
  replyTimeoutMs: number;
  /** for the first byte of an answer after the command was taken (printing takes time) */
  answerTimeoutMs: number;
  /** one command's whole conversation, however many retries */
  commandDeadlineMs: number;
  /** ENQs in a row without a reply before `no_link` */
  maxSilentEnquiries: number;
  /** NAKs of our frame before `frame_refused` */
  maxFrameNaks: number;
  /** damaged copies of the answer before `bad_answer` */
  maxBadAnswers: number;
}

export const DEFAULT_LINK_TIMINGS: LinkTimings = {
  byteTimeoutMs: 100,
  replyTimeoutMs: 300,
  answerTimeoutMs: 3_000,
  commandDeadlineMs: 60_000,
  maxSilentEnquiries: 3,
  maxFrameNaks: 3,
  maxBadAnswers: 3,
};

export interface LinkRequest {
  command: number;
  /** the password and the parameters after it */
  params: Buffer;
  /** safe to send again when its answer was lost */
  readOnly: boolean;
}

type AnswerRead = { kind: 'answer'; message: AnswerMessage } | { kind: 'damaged'; why: string } | { kind: 'none' };

export class ShtrihLink {
  private readonly timings: LinkTimings;

  constructor(
    private readonly transport: SerialTransport,
    timings: Partial<LinkTimings> = {},
    private readonly logger?: Logger,
  ) {
    this.timings = { ...DEFAULT_LINK_TIMINGS, ...timings };
  }

  /** Sends one command and answers its data after ERR; a non-zero ERR throws ShtrihDeviceError. */
  async exchange(request: LinkRequest): Promise<Buffer> {
    const progress = { delivered: false };
    let message: AnswerMessage;
    try {
      message = await this.transport.exclusive((session) => this.converse(session, request, progress));
    } catch (error) {
      if (error instanceof SerialError) throw new ShtrihLinkError(error.code, error.message, progress.delivered);
      throw error;
    }
    if (message.error !== 0) throw new ShtrihDeviceError(message.error, request.command);
    return message.data;
  }

  private async converse(io: PortSession, request: LinkRequest, progress: { delivered: boolean }): Promise<AnswerMessage> {
    const t = this.timings;
    const frame = encodeFrame(request.command, request.params);
    const deadline = Date.now() + t.commandDeadlineMs;
    const name = `0x${request.command.toString(16).padStart(2, '0')}`;
    let sent = false;
    let silentEnquiries = 0;
    let naks = 0;
    let badAnswers = 0;
    const fail = (code: 'no_link' | 'frame_refused' | 'bad_answer' | 'no_answer', message: string) =>
      new ShtrihLinkError(code, `${this.transport.name}: command ${name}: ${message}`, progress.delivered);

    /** Reads an answer (its STX already read, or not); answers it if it is ours, or null to go on. */
    const take = async (stxRead = false): Promise<AnswerMessage | null> => {
      const read = await this.readAnswer(io, stxRead);
      if (read.kind === 'none') return null;
      if (read.kind === 'damaged') {
        await io.write(Uint8Array.of(NAK));
        badAnswers += 1;
        this.logger?.debug('register answer damaged', { device: this.transport.name, command: name, why: read.why });
        if (badAnswers > t.maxBadAnswers) throw fail('bad_answer', `${badAnswers} damaged answers (${read.why})`);
        return null;
      }
      await io.write(Uint8Array.of(ACK));
      if (sent && read.message.command === request.command) return read.message;
      this.logger?.warn('register: dropped an answer left from an earlier conversation', {
        device: this.transport.name,
        command: `0x${read.message.command.toString(16)}`,
      });
      return null;
    };

    io.discardInput();
    for (;;) {
      if (Date.now() > deadline) throw fail('no_answer', `no answer within ${t.commandDeadlineMs} ms`);
      await io.write(Uint8Array.of(ENQ));
      const reply = await this.readReply(io);
      if (reply === null) {
        silentEnquiries += 1;
        if (silentEnquiries >= t.maxSilentEnquiries) throw fail('no_link', `no reply to ${silentEnquiries} enquiries (ENQ)`);
        continue;
      }
      silentEnquiries = 0;
      if (reply === ACK || reply === STX) {
        // STX: an answer that was on its way when we asked (the register finished as the wait ran out)
        const answer = await take(reply === STX);
        if (answer) return answer;
        continue;
      }
      // NAK: the register is idle and holds no answer.
      if (progress.delivered) {
        if (!request.readOnly) throw fail('no_answer', 'the register took the command but holds no answer for it');
        progress.delivered = false;
      }
      io.discardInput();
      await io.write(frame, [PASSWORD_RANGE]);
      sent = true;
      const taken = await this.readReply(io);
      if (taken === NAK) {
        naks += 1;
        if (naks > t.maxFrameNaks) throw fail('frame_refused', `the register refused the frame ${naks} times (NAK)`);
        continue;
      }
      if (taken === null) continue; // silence: the next ENQ tells whether it arrived
      // ACK, or straight an answer (STX) whose ACK was lost on the line: the register has the command
      progress.delivered = true;
      const answer = await take(taken === STX);
      if (answer) return answer;
    }
  }

  /** ACK, NAK, STX (an answer begins) or null (silence); any other byte is line noise and skipped. */
  private async readReply(io: PortSession): Promise<number | null> {
    for (;;) {
      const byte = await io.read(this.timings.replyTimeoutMs);
      if (byte === null || byte === ACK || byte === NAK || byte === STX) return byte;
    }
  }

  private async readAnswer(io: PortSession, stxRead: boolean): Promise<AnswerRead> {
    const first = stxRead ? STX : await io.read(this.timings.answerTimeoutMs);
    if (first === null) return { kind: 'none' };
    if (first !== STX) return { kind: 'damaged', why: `0x${first.toString(16)} where STX was due` };
    const length = await io.read(this.timings.byteTimeoutMs);
    if (length === null) return { kind: 'damaged', why: 'no length byte' };
    const body = Buffer.alloc(length + 1);
    body[0] = length;
    for (let i = 1; i <= length; i += 1) {
      const byte = await io.read(this.timings.byteTimeoutMs);
      if (byte === null) return { kind: 'damaged', why: `silence after ${i - 1} of ${length} bytes` };
      body[i] = byte;
    }
    const check = await io.read(this.timings.byteTimeoutMs);
    if (check === null) return { kind: 'damaged', why: 'no LRC byte' };
    if (check !== lrc(body)) return { kind: 'damaged', why: 'LRC mismatch' };
    if (length < 2) return { kind: 'damaged', why: `an answer of ${length} bytes` };
    return { kind: 'answer', message: parseAnswer(body.subarray(1)) };
  }
}
