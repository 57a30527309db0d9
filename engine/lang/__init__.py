"""The condition language: operators, the three-valued reference evaluator and the message templates."""
