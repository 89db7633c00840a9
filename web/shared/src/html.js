// htm bound to Preact: JSX-like templates without a build plugin.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
