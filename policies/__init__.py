"""The CrossGuard policy pack of the ECS platform (see README.md)."""
