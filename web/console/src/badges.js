// Counts the console keeps up to date while it is open (new arrivals, and any other kind of "to look at"), and the
// small badge that shows one beside a menu item. Generic: a fetcher, a period, a count.
import { useEffect, useState } from "preact/hooks";
import { html } from "@filo/shared/html";
import { useAnswerOrder } from "./answers.js";

// The fetcher's latest answer, asked again every `ms` and whenever one of `deps` changes (e.g. the page, so that
// opening a report takes it off at once); null until the first answer. A failed call keeps the last answer.
export function usePolled(fetcher, ms, deps = []) {
  const [value, setValue] = useState(null);
  const order = useAnswerOrder();
  useEffect(() => {
    if (!fetcher) {
      setValue(null);
      return undefined;
    }
    const load = async () => {
      const take = order.ask();
      try {
        const answer = await fetcher();
        if (take()) setValue(answer);
      } catch {
        take(); // the page itself shows errors; a badge just waits for the next round
      }
    };
    order.change();
    load();
    const timer = setInterval(() => { if (!order.busy()) load(); }, ms);
    return () => clearInterval(timer);
  }, [fetcher, ms, ...deps]);
  return value;
}

// A count beside a menu item: nothing when zero; screen readers hear "(3 nuove)" after the item's name.
export function Badge({ count, label = "nuove" }) {
  if (!count) return null;
  return html`<span class="nav-badge" data-count=${count}><span aria-hidden="true">${count > 99 ? "99+" : count}</span><span class="visually-hidden"> (${count} ${label})</span></span>`;
}
