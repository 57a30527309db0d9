"""The matching core: rules compiled onto durable-rules, and the only module that talks to it."""
