"""Tests of the pipeline layer: the state machine and the Deferred adapter."""
