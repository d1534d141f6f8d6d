// Command pion-receiver is benchmark 1's baseline: Janus VideoRoom subscribers on pion/webrtc
// that count what they receive the way rtcsim's cheap subscribers do, and nothing more.
//
// It joins the room through Janus's HTTP API as rtcsim does (create a session, attach
// janus.plugin.videoroom, "join" as a subscriber of one feed, answer Janus's offer with all
// candidates and "trickle": false, "start"), with one Janus session per ten subscribers and a
// long-poll per session. Per stream it counts, from the RTP packets pion hands over after SRTP:
// packets and payload bytes (padding excluded), video frames ended by the marker bit (RFC 7741
// §4.1), audio frames one per packet, and the packets expected from the extended highest
// sequence number (RFC 3550 §6.4.1), so loss = expected - received. Pion's default
// interceptors run (NACK, RTCP receiver reports, TWCC feedback), as any pion client has them.
//
// It is driven like bench.generator_worker's subscribe role, by JSON lines on stdin:
// {"cmd":"add","count":N}, {"cmd":"remove","count":N}, {"cmd":"snapshot"}; each gets one JSON
// line on stdout. A snapshot carries the counters per stream, this process's CPU seconds (user
// + system, all threads) and the p95 of its scheduling lag since the previous snapshot (how late
// a 50 ms ticker fires), the Go counterpart of the asyncio loop lag rtcsim's watch measures.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"
)

const (
	keepaliveInterval     = 4 * time.Second // rtcsim gives Janus a 12 s session_timeout
	subscribersPerSession = 10
	connectConcurrency    = 6
	webrtcUpTimeout       = 30 * time.Second
	lagTick               = 50 * time.Millisecond
)

// -- Janus over HTTP --------------------------------------------------------------------------

type janusMessage map[string]any

type janusSession struct {
	base    string
	id      uint64
	client  *http.Client
	mu      sync.Mutex
	waiters map[string]chan janusMessage // transaction -> its reply
	pushed  map[uint64]chan janusMessage // handle -> events with no transaction (webrtcup)
	closed  atomic.Bool
}

func transaction() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func post(client *http.Client, url string, body janusMessage) (janusMessage, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	resp, err := client.Post(url, "application/json", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var reply janusMessage
	if err := json.NewDecoder(resp.Body).Decode(&reply); err != nil {
		return nil, err
	}
	return reply, nil
}

func dataID(reply janusMessage) (uint64, error) {
	if reply["janus"] != "success" {
		return 0, fmt.Errorf("janus: %v", reply)
	}
	data, _ := reply["data"].(map[string]any)
	id, ok := data["id"].(float64)
	if !ok {
		return 0, fmt.Errorf("janus: no id in %v", reply)
	}
	return uint64(id), nil
}

func newSession(client *http.Client, base string) (*janusSession, error) {
	reply, err := post(client, base, janusMessage{"janus": "create", "transaction": transaction()})
	if err != nil {
		return nil, err
	}
	id, err := dataID(reply)
	if err != nil {
		return nil, err
	}
	s := &janusSession{base: base, id: id, client: client,
		waiters: map[string]chan janusMessage{}, pushed: map[uint64]chan janusMessage{}}
	go s.longPoll()
	go s.keepalive()
	return s, nil
}

// keepalive keeps the session alive as rtcsim's JanusSession does (a long-poll alone does not).
func (s *janusSession) keepalive() {
	for !s.closed.Load() {
		time.Sleep(keepaliveInterval)
		if !s.closed.Load() {
			_, _ = post(s.client, s.url(), janusMessage{"janus": "keepalive",
				"transaction": transaction()})
		}
	}
}

func (s *janusSession) url() string { return fmt.Sprintf("%s/%d", s.base, s.id) }

// longPoll delivers every pushed event; an event may arrive before the POST's ack.
func (s *janusSession) longPoll() {
	for !s.closed.Load() {
		resp, err := s.client.Get(s.url() + "?maxev=10")
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var events []janusMessage
		if len(body) > 0 && body[0] == '[' {
			_ = json.Unmarshal(body, &events)
		} else {
			var one janusMessage
			if json.Unmarshal(body, &one) == nil {
				events = append(events, one)
			}
		}
		for _, event := range events {
			if event["janus"] == "error" { // the session is gone: stop asking
				fmt.Fprintf(os.Stderr, "pion-receiver: session %d: %v\n", s.id, event["error"])
				s.closed.Store(true)
				return
			}
			s.deliver(event)
		}
	}
}

func (s *janusSession) deliver(event janusMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if tx, _ := event["transaction"].(string); tx != "" && event["janus"] != "ack" {
		if ch, ok := s.waiters[tx]; ok {
			ch <- event
			delete(s.waiters, tx)
			return
		}
	}
	if sender, ok := event["sender"].(float64); ok {
		if ch, ok := s.pushed[uint64(sender)]; ok {
			select {
			case ch <- event:
			default:
			}
		}
	}
}

// request POSTs and waits for the reply: synchronous (success/error) or pushed (event).
func (s *janusSession) request(handle uint64, body janusMessage) (janusMessage, error) {
	tx := transaction()
	body["transaction"] = tx
	ch := make(chan janusMessage, 1)
	s.mu.Lock()
	s.waiters[tx] = ch
	s.mu.Unlock()
	url := s.url()
	if handle != 0 {
		url = fmt.Sprintf("%s/%d", url, handle)
	}
	reply, err := post(s.client, url, body)
	if err == nil && reply["janus"] != "ack" {
		s.mu.Lock()
		delete(s.waiters, tx)
		s.mu.Unlock()
		return reply, nil
	}
	if err != nil {
		return nil, err
	}
	select {
	case event := <-ch:
		return event, nil
	case <-time.After(20 * time.Second):
		return nil, fmt.Errorf("janus: no reply to %v", body["body"])
	}
}

func (s *janusSession) attach(opaque string) (uint64, error) {
	reply, err := s.request(0, janusMessage{"janus": "attach", "plugin": "janus.plugin.videoroom",
		"opaque_id": opaque})
	if err != nil {
		return 0, err
	}
	id, err := dataID(reply)
	if err == nil {
		s.mu.Lock()
		s.pushed[id] = make(chan janusMessage, 8)
		s.mu.Unlock()
	}
	return id, err
}

func (s *janusSession) detach(handle uint64) {
	_, _ = s.request(handle, janusMessage{"janus": "detach"})
	s.mu.Lock()
	delete(s.pushed, handle)
	s.mu.Unlock()
}

func (s *janusSession) waitFor(handle uint64, kind string, timeout time.Duration) error {
	s.mu.Lock()
	ch := s.pushed[handle]
	s.mu.Unlock()
	deadline := time.After(timeout)
	for {
		select {
		case event := <-ch:
			if event["janus"] == kind {
				return nil
			}
		case <-deadline:
			return fmt.Errorf("janus: no %s on handle %d", kind, handle)
		}
	}
}

func (s *janusSession) destroy() {
	s.closed.Store(true)
	_, _ = post(s.client, s.url(), janusMessage{"janus": "destroy", "transaction": transaction()})
}

// -- one subscriber -----------------------------------------------------------------------------

type counters struct {
	received    atomic.Int64
	expected    atomic.Int64
	bytes       atomic.Int64
	videoFrames atomic.Int64
	audioFrames atomic.Int64
}

type stream struct {
	pc      *webrtc.PeerConnection
	session *janusSession
	handle  uint64
	video   counters // the media SSRC's figures, per kind
	audio   counters
}

// count reads one track's RTP until it ends: the same counts as rtcsim's RtpCounter.
func (st *stream) count(track *webrtc.TrackRemote) {
	c := &st.audio
	video := track.Kind() == webrtc.RTPCodecTypeVideo
	if video {
		c = &st.video
	}
	var base, highest int64 = -1, -1
	for {
		packet, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		seq := int64(packet.SequenceNumber)
		if base < 0 {
			base, highest = seq, seq
		} else {
			// extend to 32 bits: the nearest value to the highest seen (RFC 3550 A.1)
			ext := (highest &^ 0xFFFF) | seq
			if ext < highest-0x8000 {
				ext += 0x10000
			} else if ext > highest+0x8000 {
				ext -= 0x10000
			}
			if ext > highest {
				highest = ext
			}
		}
		c.received.Add(1)
		c.expected.Store(highest - base + 1)
		c.bytes.Add(int64(len(packet.Payload))) // pion strips the padding
		if !video {
			c.audioFrames.Add(1)
		} else if packet.Marker {
			c.videoFrames.Add(1)
		}
	}
}

type receiver struct {
	api     *webrtc.API
	base    string
	room    string
	feeds   []string
	label   string
	client  *http.Client
	mu      sync.Mutex
	streams []*stream
	session []*janusSession
}

func newAPI() (*webrtc.API, error) {
	media := &webrtc.MediaEngine{}
	if err := media.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	registry := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(media, registry); err != nil {
		return nil, err
	}
	settings := webrtc.SettingEngine{}
	settings.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	settings.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // no multicast at all
	return webrtc.NewAPI(webrtc.WithMediaEngine(media), webrtc.WithInterceptorRegistry(registry),
		webrtc.WithSettingEngine(settings)), nil
}

func (r *receiver) sessionFor(index int) (*janusSession, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.session) <= index/subscribersPerSession {
		s, err := newSession(r.client, r.base)
		if err != nil {
			return nil, err
		}
		r.session = append(r.session, s)
	}
	return r.session[index/subscribersPerSession], nil
}

func (r *receiver) connect(index int) (*stream, error) {
	session, err := r.sessionFor(index)
	if err != nil {
		return nil, err
	}
	handle, err := session.attach(fmt.Sprintf("rtcsim:%s-pion%d", r.label, index))
	if err != nil {
		return nil, err
	}
	feed := r.feeds[index%len(r.feeds)]
	reply, err := session.request(handle, janusMessage{"janus": "message", "body": janusMessage{
		"request": "join", "ptype": "subscriber", "room": r.room,
		"streams": []janusMessage{{"feed": feed}}}})
	if err != nil {
		session.detach(handle)
		return nil, err
	}
	jsep, _ := reply["jsep"].(map[string]any)
	offer, _ := jsep["sdp"].(string)
	if offer == "" {
		session.detach(handle)
		return nil, fmt.Errorf("janus: no offer in %v", reply["plugindata"])
	}
	pc, err := r.api.NewPeerConnection(webrtc.Configuration{}) // no ICE servers: no STUN at all
	if err != nil {
		session.detach(handle)
		return nil, err
	}
	st := &stream{pc: pc, session: session, handle: handle}
	pc.OnTrack(func(track *webrtc.TrackRemote, rtpReceiver *webrtc.RTPReceiver) {
		go func() { // the interceptors need RTCP read
			buf := make([]byte, 1500)
			for {
				if _, _, err := rtpReceiver.Read(buf); err != nil {
					return
				}
			}
		}()
		go st.count(track)
	})
	fail := func(err error) (*stream, error) {
		_ = pc.Close()
		session.detach(handle)
		return nil, err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer,
		SDP: offer}); err != nil {
		return fail(err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(err)
	}
	<-gathered
	if _, err := session.request(handle, janusMessage{"janus": "message",
		"body": janusMessage{"request": "start"},
		"jsep": janusMessage{"type": "answer", "sdp": pc.LocalDescription().SDP,
			"trickle": false}}); err != nil {
		return fail(err)
	}
	if err := session.waitFor(handle, "webrtcup", webrtcUpTimeout); err != nil {
		return fail(err)
	}
	return st, nil
}

func (r *receiver) add(count int) (int, string) {
	r.mu.Lock()
	first := len(r.streams)
	r.mu.Unlock()
	gate := make(chan struct{}, connectConcurrency)
	results := make([]*stream, count)
	var firstErr error
	var errMu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < count; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			gate <- struct{}{}
			defer func() { <-gate }()
			st, err := r.connect(first + i)
			if err != nil {
				errMu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				errMu.Unlock()
				return
			}
			results[i] = st
		}(i)
	}
	wg.Wait()
	failed := 0
	r.mu.Lock()
	for _, st := range results {
		if st == nil {
			failed++
		} else {
			r.streams = append(r.streams, st)
		}
	}
	r.mu.Unlock()
	message := ""
	if firstErr != nil {
		message = firstErr.Error()
	}
	return failed, message
}

func (r *receiver) remove(count int) {
	r.mu.Lock()
	if count > len(r.streams) {
		count = len(r.streams)
	}
	doomed := r.streams[len(r.streams)-count:]
	r.streams = r.streams[:len(r.streams)-count]
	r.mu.Unlock()
	for _, st := range doomed {
		_ = st.pc.Close()
		st.session.detach(st.handle)
	}
}

// -- measuring ----------------------------------------------------------------------------------

type lagMeter struct {
	mu      sync.Mutex
	samples []float64
}

func (m *lagMeter) run() {
	next := time.Now().Add(lagTick)
	for {
		time.Sleep(time.Until(next))
		late := time.Since(next).Seconds() * 1000
		m.mu.Lock()
		m.samples = append(m.samples, late)
		m.mu.Unlock()
		next = time.Now().Add(lagTick)
	}
}

func (m *lagMeter) take() (p95, max float64) {
	m.mu.Lock()
	samples := m.samples
	m.samples = nil
	m.mu.Unlock()
	if len(samples) == 0 {
		return 0, 0
	}
	sort.Float64s(samples)
	return samples[int(0.95*float64(len(samples)-1))], samples[len(samples)-1]
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &usage)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(usage.Utime) + tv(usage.Stime)
}

var started = time.Now()

func (r *receiver) snapshot(lag *lagMeter) janusMessage {
	r.mu.Lock()
	streams := append([]*stream(nil), r.streams...)
	r.mu.Unlock()
	expected := make([]int64, len(streams))
	received := make([]int64, len(streams))
	payload := make([]int64, len(streams))
	frames := make([]int64, len(streams))
	for i, st := range streams {
		expected[i] = st.video.expected.Load() + st.audio.expected.Load()
		received[i] = st.video.received.Load() + st.audio.received.Load()
		payload[i] = st.video.bytes.Load() + st.audio.bytes.Load()
		frames[i] = st.video.videoFrames.Load()
	}
	p95, max := lag.take()
	return janusMessage{"event": "snapshot", "at": time.Since(started).Seconds(),
		"cpu_s": cpuSeconds(), "expected": expected, "received": received, "bytes": payload,
		"video_frames": frames, "lag_p95_ms": p95, "lag_max_ms": max, "saturated": false,
		"reasons": []string{}}
}

func main() {
	janus := flag.String("janus-url", "", "Janus HTTP API, e.g. http://198.18.21.1:8188/janus")
	room := flag.String("room", "", "VideoRoom room id")
	feeds := flag.String("feeds", "", "publisher ids, comma separated")
	label := flag.String("label", "pion", "names the handles (opaque_id)")
	flag.Parse()
	if *janus == "" || *room == "" || *feeds == "" {
		fmt.Fprintln(os.Stderr, "pion-receiver: -janus-url, -room and -feeds are needed")
		os.Exit(2)
	}
	api, err := newAPI()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pion-receiver:", err)
		os.Exit(1)
	}
	r := &receiver{api: api, base: *janus, room: *room, feeds: strings.Split(*feeds, ","),
		label: *label, client: &http.Client{Timeout: 70 * time.Second}}
	lag := &lagMeter{}
	go lag.run()
	out := json.NewEncoder(os.Stdout)
	emit := func(m janusMessage) { _ = out.Encode(m) }
	emit(janusMessage{"event": "hello", "pid": os.Getpid()})
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var command struct {
			Cmd   string `json:"cmd"`
			Count int    `json:"count"`
		}
		if err := json.Unmarshal(in.Bytes(), &command); err != nil {
			emit(janusMessage{"event": "error", "error": err.Error()})
			continue
		}
		switch command.Cmd {
		case "add":
			failed, message := r.add(command.Count)
			r.mu.Lock()
			n := len(r.streams)
			r.mu.Unlock()
			emit(janusMessage{"event": "added", "streams": n, "failed": failed, "error": message})
		case "remove":
			r.remove(command.Count)
			emit(janusMessage{"event": "removed", "streams": len(r.streams)})
		case "snapshot":
			emit(r.snapshot(lag))
		default:
			emit(janusMessage{"event": "error", "error": "unknown command " + command.Cmd})
		}
	}
	r.remove(len(r.streams))
	for _, s := range r.session {
		s.destroy()
	}
}
