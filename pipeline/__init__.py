"""The delivery pipeline's helpers: which environments the workflows run, and the CI role's inputs."""
