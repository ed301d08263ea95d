"""The budgeted allocation optimizer: options, components, build, solve and results."""
