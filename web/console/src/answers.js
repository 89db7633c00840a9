// Answers to a question asked again and again (a list refreshed every few seconds, a search, a live preview) can come
// back out of order, and a busy server can take longer than the refresh period. One rule for all of them: an answer is
// shown unless a newer one is already shown or the question changed after it was asked. (Dropping every answer that a
// newer request overtook would starve a page whose server is slower than its period: it would never show anything.)
import { useRef } from "preact/hooks";

export function answerOrder() {
  let asked = 0; // requests made
  let shown = 0; // the newest request whose answer was shown
  let changed = 0; // requests up to this one asked another question
  let waiting = 0; // requests not answered yet
  return {
    // Another question from now on (other filters, another search): answers to earlier requests are dropped.
    change() { changed = asked; },
    // True while a request is out: a timer can skip its turn rather than pile requests on a slow server.
    busy: () => waiting > 0,
    // Makes a request; call the returned function when its answer (or error) comes: it says whether to show it.
    ask() {
      const number = ++asked;
      waiting += 1;
      return () => {
        waiting -= 1;
        if (number <= changed || number <= shown) return false;
        shown = number;
        return true;
      };
    },
  };
}

// One answerOrder for the life of a component.
export function useAnswerOrder() {
  const order = useRef(null);
  if (!order.current) order.current = answerOrder();
  return order.current;
}
