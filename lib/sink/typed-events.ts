// Typed events for Writable subclasses: `class X extends TypedWritable<XEvents>` gives every listener method and
// `emit` the argument types of each event, Writable's own included, at no cost at run time (it is Writable).
import { type Readable, Writable, type WritableOptions } from 'node:stream'

/** The events every Writable emits, and the arguments their listeners get. */
export interface WritableEvents {
  close: []
  drain: []
  error: [err: Error]
  finish: []
  pipe: [src: Readable]
  unpipe: [src: Readable]
}

/** An events map: each event's name and the arguments its listeners get. */
export type EventMap<Events> = { [E in keyof Events]: unknown[] }

/**
 * An event name outside `Events`: such events stay possible, untyped, as on any EventEmitter, but a known name never
 * falls through to this looser overload (a listener of the wrong type for `'progress'` does not compile).
 */
type OtherEvent<Events, E> = E extends keyof Events ? never : E

type Listener<Args extends unknown[]> = (...args: Args) => void

/** A Writable whose events are those of `Events`. Own members override Writable's, so its looser overloads are gone. */
export interface TypedWritable<Events extends EventMap<Events>> extends Writable {
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  on<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  once<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  addListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  addListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  prependListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  prependListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  prependOnceListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  prependOnceListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  off<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  removeListener<E extends keyof Events>(event: E, listener: Listener<Events[E]>): this
  removeListener<E extends string | symbol>(event: OtherEvent<Events, E>, listener: Listener<any[]>): this
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean
  emit<E extends string | symbol>(event: OtherEvent<Events, E>, ...args: any[]): boolean
}

/**
 * Node's `Writable`, typed for an events map: `class S3Sink extends TypedWritable<S3SinkEvents>`. A declaration
 * merged into the class would not do: TypeScript refuses an interface that extends both Writable and another type
 * declaring `on`, and overloads added beside Writable's keep its catch-all `(event: string, listener: any)`.
 */
export const TypedWritable = Writable as unknown as new <Events extends EventMap<Events>>(
  options?: WritableOptions,
) => TypedWritable<Events>
