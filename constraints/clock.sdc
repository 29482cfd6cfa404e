# Clock of the HGF core; hgf generate fills in the period from the target's clock.
create_clock -name clock -period {{PERIOD_NS}} [get_ports clock]
