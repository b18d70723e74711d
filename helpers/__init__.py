"""Helpers for the executable textbook on backpropagation in convolutional networks."""
