"""The service layer: uploads, reads, accounts, images. It imports no web framework."""
