"""One module per chat provider wire format."""
