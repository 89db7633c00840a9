// Hash routes (#/segnalazioni/2026-0000042, #/r/<token>) for both apps: static hosting needs no server routes.
// What follows the # never reaches a server log or a Referer header.
import { useEffect, useState } from "preact/hooks";

export function go(path) {
  window.location.hash = "#/" + path;
}

// The address's path after "#/", as it is now.
export function hashPath() {
  return window.location.hash.replace(/^#\/?/, "");
}

// The route after "#/" as parse(path) reads it, read again at each move; moved() runs after each move.
export function useHashRoute(parse, moved) {
  const read = () => parse(hashPath());
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const change = () => {
      setRoute(read());
      if (moved) moved();
    };
    window.addEventListener("hashchange", change);
    return () => window.removeEventListener("hashchange", change);
  }, []);
  return route;
}
