"""The embedded local default: moto, pollers, scheduler and the sandbox provider; never deployed."""
