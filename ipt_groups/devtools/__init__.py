"""Developer tools, not the product: the demo programme and the simulation."""
