"""The seven workloads; each module has run(ctx) -> Section."""
