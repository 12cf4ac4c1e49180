/** Why a serial port could not carry a command. Every one of them is worth retrying later. */
export type SerialErrorCode =
  /** the port could not be opened within the wait (unplugged, wrong path, busy) */
  | 'port_unavailable'
  /** the port went away while a command used it */
  | 'port_lost'
  /** the transport was closed by its owner */
  | 'port_closed';

export class SerialError extends Error {
  readonly transient = true;

  constructor(
    readonly code: SerialErrorCode,
    message: string,
    readonly port: string,
  ) {
    super(message);
    this.name = 'SerialError';
  }
}
