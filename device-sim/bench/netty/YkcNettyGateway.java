// A minimal Netty 4 YKC gateway: the peer Chargegate is measured against in device-sim/bench/vs-netty.
//
// It does what a small production Netty charger gateway does for YKC, and no more:
//   * one boss + N worker NioEventLoopGroup (Debian's libnetty-java ships no native epoll library);
//   * LengthFieldBasedFrameDecoder(259, 1, 1, +2, 0) — the YKC envelope 68 | len | seq(2) enc type body | CRC(2);
//   * CRC-16/MODBUS over seq..body, accepted little- or big-endian (as Chargegate accepts either);
//   * 0x01 login -> 0x02 reply (success), 0x03 heartbeat -> 0x04 reply, 0x05 billing-model check -> 0x06
//     (consistent), all echoing the sequence bytes;
//   * 0x13 real-time data decoded field by field with the same scales as Chargegate's normalizer, producing a
//     status event and a meter event (plus one alarm event per set fault bit);
//   * every event goes to a bounded in-process queue drained by one sink thread that renders it as a JSON line
//     and writes it to a file (the counterpart of Chargegate's bus + `sinks.jsonl`); a full queue drops and counts;
//   * an IdleStateHandler closes a charger silent for --idle-secs (the counterpart of Chargegate's liveness wheel).
//
// Counters are written as one JSON object to --stats-file every 250 ms (write to a temp file, then rename), so the
// bench scripts read them without an HTTP stack. Compiled at run time by the bench script; never commit classes.
//
// Usage: java -cp <netty jars>:<classes> YkcNettyGateway --port 9768 --workers 2 --stats-file F --sink /dev/null

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

public final class YkcNettyGateway {
    static final int START = 0x68;
    static final int MAX_FRAME = 255 + 4;

    // ---- counters (read by the stats writer) ----
    static final LongAdder CONNECTIONS = new LongAdder();
    static final LongAdder ACCEPTED = new LongAdder();
    static final LongAdder FRAMES_IN = new LongAdder();
    static final LongAdder REALTIME_IN = new LongAdder();
    static final LongAdder LOGIN_REPLIES = new LongAdder();
    static final LongAdder HEARTBEAT_REPLIES = new LongAdder();
    static final LongAdder OTHER_REPLIES = new LongAdder();
    static final LongAdder CRC_ERRORS = new LongAdder();
    static final LongAdder DECODE_ERRORS = new LongAdder();
    static final LongAdder IDLE_CLOSED = new LongAdder();
    static final LongAdder EVENTS_PUBLISHED = new LongAdder();
    static final LongAdder EVENTS_DROPPED = new LongAdder();
    static final AtomicLong EVENTS_WRITTEN = new AtomicLong();
    static final AtomicLong EVENT_SEQ = new AtomicLong();

    static String instance = "netty";
    static ArrayBlockingQueue<Event> bus;

    // ---- CRC-16/MODBUS (table-driven, poly 0xA001 reflected, init 0xFFFF) ----
    static final int[] CRC_TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int c = i;
            for (int k = 0; k < 8; k++) {
                c = (c & 1) != 0 ? (c >>> 1) ^ 0xA001 : c >>> 1;
            }
            CRC_TABLE[i] = c;
        }
    }

    static int crc16(ByteBuf b, int from, int to) {
        int crc = 0xFFFF;
        for (int i = from; i < to; i++) {
            crc = (crc >>> 8) ^ CRC_TABLE[(crc ^ b.getUnsignedByte(i)) & 0xFF];
        }
        return crc & 0xFFFF;
    }

    // ---- events ----
    /** One normalized event; rendered to JSON on the sink thread, as Chargegate's jsonl sink does. */
    static final class Event {
        final long id;
        final long ts;
        final String charger;
        final int connector;
        final String kind;
        final Object data;

        Event(String charger, int connector, String kind, Object data) {
            this.id = EVENT_SEQ.incrementAndGet();
            this.ts = System.currentTimeMillis();
            this.charger = charger;
            this.connector = connector;
            this.kind = kind;
            this.data = data;
        }
    }

    static final class Online {
        String protocolVersion;
        String firmware;
        String currentType;
        int connectors;
    }

    static final class Heartbeat {
        boolean fault;
    }

    static final class Status {
        String status;
        String vendorStatus;
        boolean plugged;
        Boolean gunReturned;
        String[] errors;
    }

    static final class Meter {
        String transactionId;
        double voltageV;
        double currentA;
        double powerKw;
        double energyKwh;
        double socPct;
        Double connectorTemperatureC;
        Double batteryTemperatureMaxC;
        int elapsedMin;
        int remainingMin;
        double amount;
    }

    static final class Alarm {
        String code;
        String severity;
        String text;
    }

    static final String[][] FAULTS = {
        {"emergency_stop", "emergency stop"},
        {"no_rectifier_module", "no rectifier module"},
        {"air_outlet_over_temperature", "air outlet over-temperature"},
        {"ac_surge_protector", "AC surge protector"},
        {"dc20_communication", "DC20 communication fault"},
        {"fc08_communication", "FC08 insulation module communication fault"},
        {"meter_communication", "meter communication fault"},
        {"card_reader_communication", "card reader communication fault"},
        {"rc10_communication", "RC10 communication fault"},
        {"fan_board", "fan board fault"},
        {"dc_fuse", "DC fuse fault"},
        {"hv_contactor", "high-voltage contactor fault"},
        {"door_open", "door open"},
    };

    static void publish(Event e) {
        if (bus.offer(e)) {
            EVENTS_PUBLISHED.increment();
        } else {
            EVENTS_DROPPED.increment();
        }
    }

    // ---- BCD helpers ----
    static final char[] DIGITS = "0123456789ABCDEF".toCharArray();

    static String bcd(ByteBuf b, int at, int len) {
        char[] out = new char[len * 2];
        for (int i = 0; i < len; i++) {
            int v = b.getUnsignedByte(at + i);
            out[2 * i] = DIGITS[v >>> 4];
            out[2 * i + 1] = DIGITS[v & 0x0F];
        }
        return new String(out);
    }

    static boolean allZero(ByteBuf b, int at, int len) {
        for (int i = 0; i < len; i++) {
            if (b.getByte(at + i) != 0) {
                return false;
            }
        }
        return true;
    }

    static int gun(ByteBuf b, int at) {
        int v = b.getUnsignedByte(at);
        return (v >>> 4) * 10 + (v & 0x0F);
    }

    // ---- the per-connection handler ----
    static final class YkcHandler extends SimpleChannelInboundHandler<ByteBuf> {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            CONNECTIONS.increment();
            ACCEPTED.increment();
            super.channelActive(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) throws Exception {
            CONNECTIONS.decrement();
            super.channelInactive(ctx);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof IdleStateEvent && ((IdleStateEvent) evt).state() == IdleState.READER_IDLE) {
                IDLE_CLOSED.increment();
                ctx.close();
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            DECODE_ERRORS.increment();
            ctx.close();
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, ByteBuf f) {
            FRAMES_IN.increment();
            int base = f.readerIndex();
            int total = f.readableBytes();
            if (total < 8 || f.getUnsignedByte(base) != START) {
                DECODE_ERRORS.increment();
                ctx.close();
                return;
            }
            int len = f.getUnsignedByte(base + 1);
            int crc = crc16(f, base + 2, base + 2 + len);
            int le = f.getUnsignedByte(base + 2 + len) | (f.getUnsignedByte(base + 3 + len) << 8);
            int be = (f.getUnsignedByte(base + 2 + len) << 8) | f.getUnsignedByte(base + 3 + len);
            if (crc != le && crc != be) {
                CRC_ERRORS.increment();
                return;
            }
            int type = f.getUnsignedByte(base + 5);
            int body = base + 6;
            int bodyLen = len - 4;
            int need = type == 0x01 ? 30 : type == 0x03 || type == 0x05 ? 9 : type == 0x13 ? 60 : 0;
            if (bodyLen < need) {
                DECODE_ERRORS.increment();
                return;
            }
            switch (type) {
                case 0x01:
                    onLogin(ctx, f, base, body);
                    break;
                case 0x03:
                    onHeartbeat(ctx, f, base, body);
                    break;
                case 0x05:
                    onBillingCheck(ctx, f, base, body);
                    break;
                case 0x13:
                    REALTIME_IN.increment();
                    onRealtime(f, body);
                    break;
                default:
                    break;
            }
        }

        private void onLogin(ChannelHandlerContext ctx, ByteBuf f, int base, int body) {
            String pile = bcd(f, body, 7);
            Online o = new Online();
            int pileType = f.getUnsignedByte(body + 7);
            o.currentType = pileType == 0 ? "dc" : pileType == 1 ? "ac" : null;
            o.connectors = f.getUnsignedByte(body + 8);
            int v = f.getUnsignedByte(body + 9);
            o.protocolVersion = (v / 10) + "." + (v % 10);
            o.firmware = f.toString(body + 10, 8, StandardCharsets.US_ASCII).replace("\0", "");
            publish(new Event(pile, 0, "online", o));
            ByteBuf r = reply(ctx, f, base, 0x02, 8);
            r.writeBytes(f, body, 7);
            r.writeByte(0x00);
            send(ctx, r);
            LOGIN_REPLIES.increment();
        }

        private void onHeartbeat(ChannelHandlerContext ctx, ByteBuf f, int base, int body) {
            String pile = bcd(f, body, 7);
            int g = gun(f, body + 7);
            Heartbeat h = new Heartbeat();
            h.fault = f.getUnsignedByte(body + 8) != 0;
            publish(new Event(pile, g, "heartbeat", h));
            ByteBuf r = reply(ctx, f, base, 0x04, 9);
            r.writeBytes(f, body, 8);
            r.writeByte(0x00);
            send(ctx, r);
            HEARTBEAT_REPLIES.increment();
        }

        /** 0x05 billing-model check -> 0x06 "consistent": this peer holds no tariffs, it accepts the pile's. */
        private void onBillingCheck(ChannelHandlerContext ctx, ByteBuf f, int base, int body) {
            ByteBuf r = reply(ctx, f, base, 0x06, 10);
            r.writeBytes(f, body, 9);
            r.writeByte(0x00);
            send(ctx, r);
            OTHER_REPLIES.increment();
        }

        private void onRealtime(ByteBuf f, int b) {
            boolean serialZero = allZero(f, b, 16);
            String serial = serialZero ? null : bcd(f, b, 16);
            String pile = bcd(f, b + 16, 7);
            int g = gun(f, b + 23);
            int status = f.getUnsignedByte(b + 24);
            int returned = f.getUnsignedByte(b + 25);
            int plugged = f.getUnsignedByte(b + 26);
            int voltage = f.getUnsignedShortLE(b + 27);
            int current = f.getUnsignedShortLE(b + 29);
            int cableTemp = f.getUnsignedByte(b + 31);
            // b + 32 .. b + 40: cable code (8 bytes), not normalized.
            int soc = f.getUnsignedByte(b + 40);
            int batteryTemp = f.getUnsignedByte(b + 41);
            int charging = f.getUnsignedShortLE(b + 42);
            int remaining = f.getUnsignedShortLE(b + 44);
            long energy = f.getUnsignedIntLE(b + 46);
            // b + 50: loss-adjusted energy, not in the meter event.
            long amount = f.getUnsignedIntLE(b + 54);
            int faults = f.getUnsignedShortLE(b + 58);

            int nFaults = Integer.bitCount(faults & 0x1FFF);
            String[] errors = new String[nFaults];
            for (int i = 0, k = 0; i < FAULTS.length; i++) {
                if ((faults & (1 << i)) != 0) {
                    errors[k++] = FAULTS[i][0];
                }
            }
            Status s = new Status();
            s.status = status == 0 ? "offline" : status == 1 ? "faulted" : status == 2
                    ? (plugged == 1 ? "preparing" : "available") : status == 3 ? "charging" : "unavailable";
            s.vendorStatus = "0x" + DIGITS[status >>> 4] + DIGITS[status & 0x0F];
            s.plugged = plugged == 1;
            s.gunReturned = returned == 2 ? null : Boolean.valueOf(returned == 1);
            s.errors = errors;
            publish(new Event(pile, g, "status", s));

            Meter m = new Meter();
            m.transactionId = serial;
            m.voltageV = voltage / 10.0;
            m.currentA = current / 10.0;
            m.powerKw = m.voltageV * m.currentA / 1000.0;
            m.energyKwh = energy / 10000.0;
            m.socPct = soc;
            m.connectorTemperatureC = cableTemp == 0 ? null : Double.valueOf(cableTemp - 50);
            m.batteryTemperatureMaxC = batteryTemp == 0 ? null : Double.valueOf(batteryTemp - 50);
            m.elapsedMin = charging;
            m.remainingMin = remaining;
            m.amount = amount / 10000.0;
            publish(new Event(pile, g, "meter", m));

            for (String code : errors) {
                Alarm a = new Alarm();
                a.code = "ykc.hw." + code;
                a.severity = code.equals("emergency_stop") ? "critical" : "major";
                for (String[] fault : FAULTS) {
                    if (fault[0].equals(code)) {
                        a.text = fault[1];
                    }
                }
                publish(new Event(pile, g, "alarm", a));
            }
        }

        /** A reply frame with the request's sequence bytes; the caller appends `bodyLen` body bytes. */
        private static ByteBuf reply(ChannelHandlerContext ctx, ByteBuf req, int base, int type, int bodyLen) {
            ByteBuf r = ctx.alloc().buffer(bodyLen + 8);
            r.writeByte(START);
            r.writeByte(bodyLen + 4);
            r.writeByte(req.getByte(base + 2));
            r.writeByte(req.getByte(base + 3));
            r.writeByte(0x00);
            r.writeByte(type);
            return r;
        }

        /** Appends the CRC (little-endian, as the spec says) and writes the frame. */
        private static void send(ChannelHandlerContext ctx, ByteBuf r) {
            int crc = crc16(r, 2, r.writerIndex());
            r.writeByte(crc & 0xFF);
            r.writeByte(crc >>> 8);
            ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
        }
    }

    // ---- JSON rendering on the sink thread ----
    static void num(StringBuilder sb, String k, double v) {
        sb.append(",\"").append(k).append("\":").append(v);
    }

    static void render(StringBuilder sb, Event e) {
        sb.append("{\"v\":1,\"id\":\"").append(instance).append('-').append(Long.toHexString(e.id))
                .append("\",\"ts\":").append(e.ts).append(",\"charger\":\"").append(e.charger).append('"');
        if (e.connector > 0) {
            sb.append(",\"connector\":").append(e.connector);
        }
        sb.append(",\"protocol\":\"ykc/1.6\",\"kind\":\"").append(e.kind).append("\",\"data\":{");
        Object d = e.data;
        if (d instanceof Meter) {
            Meter m = (Meter) d;
            sb.append("\"voltage_v\":").append(m.voltageV);
            if (m.transactionId != null) {
                sb.append(",\"transaction_id\":\"").append(m.transactionId).append('"');
            }
            num(sb, "current_a", m.currentA);
            num(sb, "power_kw", m.powerKw);
            num(sb, "energy_kwh", m.energyKwh);
            num(sb, "soc_pct", m.socPct);
            if (m.connectorTemperatureC != null) {
                num(sb, "connector_temperature_c", m.connectorTemperatureC);
            }
            if (m.batteryTemperatureMaxC != null) {
                num(sb, "battery_temperature_max_c", m.batteryTemperatureMaxC);
            }
            sb.append(",\"elapsed_min\":").append(m.elapsedMin).append(",\"remaining_min\":").append(m.remainingMin);
            num(sb, "amount", m.amount);
        } else if (d instanceof Status) {
            Status s = (Status) d;
            sb.append("\"status\":\"").append(s.status).append("\",\"vendor_status\":\"").append(s.vendorStatus)
                    .append("\",\"plugged\":").append(s.plugged);
            if (s.gunReturned != null) {
                sb.append(",\"gun_returned\":").append(s.gunReturned.booleanValue());
            }
            sb.append(",\"errors\":[");
            for (int i = 0; i < s.errors.length; i++) {
                sb.append(i == 0 ? "\"" : ",\"").append(s.errors[i]).append('"');
            }
            sb.append(']');
        } else if (d instanceof Heartbeat) {
            sb.append("\"fault\":").append(((Heartbeat) d).fault);
        } else if (d instanceof Online) {
            Online o = (Online) d;
            sb.append("\"protocol_version\":\"").append(o.protocolVersion).append("\",\"firmware\":\"")
                    .append(o.firmware).append("\",\"connectors\":").append(o.connectors);
            if (o.currentType != null) {
                sb.append(",\"current_type\":\"").append(o.currentType).append('"');
            }
        } else if (d instanceof Alarm) {
            Alarm a = (Alarm) d;
            sb.append("\"code\":\"").append(a.code).append("\",\"severity\":\"").append(a.severity)
                    .append("\",\"text\":\"").append(a.text).append("\",\"active\":true");
        }
        sb.append("},\"gw\":\"").append(instance).append("\"}\n");
    }

    static void runSink(String path) {
        try (Writer w = new BufferedWriter(new OutputStreamWriter(new FileOutputStream(path, true),
                StandardCharsets.UTF_8), 64 * 1024)) {
            StringBuilder sb = new StringBuilder(512);
            java.util.ArrayList<Event> batch = new java.util.ArrayList<>(1024);
            while (true) {
                Event first = bus.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    w.flush();
                    continue;
                }
                batch.add(first);
                bus.drainTo(batch, 1023);
                for (Event e : batch) {
                    sb.setLength(0);
                    render(sb, e);
                    w.append(sb);
                }
                EVENTS_WRITTEN.addAndGet(batch.size());
                batch.clear();
            }
        } catch (InterruptedException | IOException e) {
            System.err.println("sink stopped: " + e);
        }
    }

    static void writeStats(Path file) {
        String json = "{\"connections\":" + CONNECTIONS.sum()
                + ",\"accepted\":" + ACCEPTED.sum()
                + ",\"frames_in\":" + FRAMES_IN.sum()
                + ",\"realtime_in\":" + REALTIME_IN.sum()
                + ",\"login_replies\":" + LOGIN_REPLIES.sum()
                + ",\"heartbeat_replies\":" + HEARTBEAT_REPLIES.sum()
                + ",\"other_replies\":" + OTHER_REPLIES.sum()
                + ",\"crc_errors\":" + CRC_ERRORS.sum()
                + ",\"decode_errors\":" + DECODE_ERRORS.sum()
                + ",\"idle_closed\":" + IDLE_CLOSED.sum()
                + ",\"events_published\":" + EVENTS_PUBLISHED.sum()
                + ",\"events_dropped\":" + EVENTS_DROPPED.sum()
                + ",\"events_written\":" + EVENTS_WRITTEN.get() + "}\n";
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            Files.write(tmp, json.getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            System.err.println("stats: " + e);
        }
    }

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int port = 9768;
        int workers = Runtime.getRuntime().availableProcessors();
        int idleSecs = 35;
        int queue = 16384;
        String sink = "/dev/null";
        String stats = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--host": host = args[i + 1]; break;
                case "--port": port = Integer.parseInt(args[i + 1]); break;
                case "--workers": workers = Integer.parseInt(args[i + 1]); break;
                case "--idle-secs": idleSecs = Integer.parseInt(args[i + 1]); break;
                case "--queue": queue = Integer.parseInt(args[i + 1]); break;
                case "--sink": sink = args[i + 1]; break;
                case "--stats-file": stats = args[i + 1]; break;
                case "--instance": instance = args[i + 1]; break;
                default: throw new IllegalArgumentException("unknown flag " + args[i]);
            }
        }
        bus = new ArrayBlockingQueue<>(queue);
        final String sinkPath = sink;
        Thread sinkThread = new Thread(() -> runSink(sinkPath), "sink");
        sinkThread.setDaemon(true);
        sinkThread.start();

        EventLoopGroup boss = new NioEventLoopGroup(1);
        EventLoopGroup worker = new NioEventLoopGroup(workers);
        final int idle = idleSecs;
        try {
            ServerBootstrap b = new ServerBootstrap()
                    .group(boss, worker)
                    .channel(NioServerSocketChannel.class)
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childOption(ChannelOption.SO_KEEPALIVE, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ChannelPipeline p = ch.pipeline();
                            if (idle > 0) {
                                p.addLast(new IdleStateHandler(idle, 0, 0, TimeUnit.SECONDS));
                            }
                            p.addLast(new LengthFieldBasedFrameDecoder(MAX_FRAME, 1, 1, 2, 0));
                            p.addLast(new YkcHandler());
                        }
                    });
            b.bind(host, port).sync();
            System.err.println("netty ykc gateway listening on " + host + ":" + port + " workers=" + workers);
            if (stats != null) {
                final Path statsFile = Paths.get(stats);
                worker.next().scheduleAtFixedRate(() -> writeStats(statsFile), 0, 250, TimeUnit.MILLISECONDS);
            }
            Thread.currentThread().join();
        } finally {
            boss.shutdownGracefully();
            worker.shutdownGracefully();
        }
    }
}
