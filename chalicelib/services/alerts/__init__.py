"""Allerte (issue 19): official civil-protection feeds watched, and their alerts drafted or sent to the hamlets
they touch through the broadcast engine."""
