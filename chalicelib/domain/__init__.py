"""Pure rules of Filo Diretto: no I/O, no framework, nothing of ours imported from outside domain/."""
