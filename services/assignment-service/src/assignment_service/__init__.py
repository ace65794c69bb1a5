"""The assignment service: assignment rules, agent load, and who gets which ticket."""
